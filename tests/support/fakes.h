// In-memory fakes of the worker's ports, for unit tests without I/O: the TaskStore fake is in
// fake_task_store.h, the event source's and outbox's in worker_fakes.h, the publisher's in
// recording_publisher.h (the producer's fakes are in producer_fakes.h).
#pragma once

#include "support/fake_task_store.h"
#include "support/recording_publisher.h"
