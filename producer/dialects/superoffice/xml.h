// The XML form of SuperOffice answers (Accept: application/xml or text/xml), written from
// their JSON form after $select and SO-TimeZone were applied, so both forms always carry the
// same values. Shapes (docs/superoffice.md):
//   <BatchTaskInfo xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Id>1000</Id>...
//   <ArrayOfBatchTaskInfo ...><BatchTaskInfo>...</BatchTaskInfo>...</ArrayOfBatchTaskInfo>
//   <int>1000</int>, <boolean>true</boolean>, <Error><Error>...</Error>...</Error>
// A null value is an empty element with xsi:nil="true"; a dictionary field (ParameterObject,
// FieldProperties) is a list of <KeyValueOfstringstring><Key/><Value/></...> as .NET's
// DataContractSerializer writes a Dictionary. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace conveyor::superoffice {

// One BatchTaskInfo object, or null (an agent's "not found").
std::string BatchTaskInfoXml(const nlohmann::json& info);
// An array of BatchTaskInfo objects.
std::string BatchTaskInfoArrayXml(const nlohmann::json& infos);
// An int (StartBatchJob) or bool (StopBatchJob) answer.
std::string ScalarXml(const nlohmann::json& value);
// An ErrorBody().
std::string ErrorXml(const nlohmann::json& error);

}  // namespace conveyor::superoffice
