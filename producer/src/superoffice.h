// The SuperOffice batch-task dialect (seed-apis.md §2): BatchTaskInfo, its state and
// cancellation names, and the agent's error shape. A BatchTaskInfo is a Conveyor task with
// its latest run; its Id is the task's integer number.
//
// So far: GetBatchTaskInfo and StopBatchJob (agent) and GET /BatchTask/{id},
// POST /BatchTask/{id}/Stop (REST). The other methods come with the dialect's issue.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "conveyor/result.h"
#include "conveyor/task_view.h"

namespace conveyor::superoffice {

// BatchTaskState names as the API spells them ("Aquired", sic). A cancelled run is Failed
// (its Result says it was cancelled); a run waiting to be retried is New again.
std::string_view StateName(const std::optional<RunView>& run);

nlohmann::json BatchTaskInfo(const TaskView& view);

// Reads {"Id": int} (an agent request body); kInvalidArgument naming the field otherwise.
Result<std::int64_t> DecodeId(std::string_view body);

// The body of an agent error: {"Error": message, "ErrorType": code name, "Field": field}.
nlohmann::json ErrorBody(const Error& error);

// Whether StopBatchJob may stop a task of this type (CannotCancel may not).
bool MayCancel(const TaskView& view);

}  // namespace conveyor::superoffice
