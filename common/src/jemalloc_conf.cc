// jemalloc's options for conveyor-producer and conveyor-worker. This file is not part of
// conveyor_common: the conveyor_malloc target (top CMakeLists.txt) compiles it into each program
// that links jemalloc; link that target to programs only, or the symbol is defined twice.
// jemalloc reads `malloc_conf` as it starts, before main(); /etc/malloc.conf and MALLOC_CONF in
// the environment, read after it, override it.
//
// Two arenas, as LimitMallocArenas(2) in the programs' main() gives glibc's malloc (keep the two
// counts the same): jemalloc's default is four per core, and each keeps the pages freed in it
// for a while (dirty_decay_ms, 10 s), so a producer's handler threads or a worker's run threads
// on a large machine would spread the same work over many more pages. In bench/e2e two arenas
// took 6 MiB off the producer's peak (42-43 MiB against 48-50) at the same rate
// (bench/README.md, "jemalloc").
//
// Freed pages go back to the kernel after about a second, not ten (dirty_decay_ms; jemalloc's
// muzzy_decay_ms is already 0 by default): while two workers drained a backlog of 1,000,000 tasks
// their RSS peaked at 67 MiB with jemalloc's defaults and at 65 with these, at no cost in
// throughput measured in bench/e2e (bench/README.md, "jemalloc's decay").
#include <jemalloc/jemalloc.h>

const char* malloc_conf = "narenas:2,dirty_decay_ms:1000";
