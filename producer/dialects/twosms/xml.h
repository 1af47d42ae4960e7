// The XML forms of the TwoSms dialect, as ASP.NET Web API's XmlSerializer writes them in the
// seed samples (shared/seeds 000-002).
//
// Requests: RequestToJson maps <AccountTaskRequest> / <AccountTaskUpdateRequest> onto the same
// JSON document a JSON client would send, so that one JSON Schema and one decoder check both
// forms. Element text stays text ("NONE", "0", dates); <Enabled> becomes a JSON boolean when it
// is an xs:boolean; an element with xsi:nil="true" becomes null; unknown elements are ignored
// (as XmlSerializer does); a field given twice, or holding elements instead of text, is an
// error naming the field. Namespace prefixes are ignored; elements are matched by local name.
//
// Responses: EnvelopeToXml writes an envelope built for JSON (keys in the seed's order) as
// XmlSerializer would: one element per key in the same order, null as xsi:nil="true", arrays
// as one child element per item, booleans as true/false, no XML declaration.
//
// Limits: every XML document read here (request bodies and XML Parameters) may nest at most
// kMaxXmlDepth elements deep and hold at most kMaxXmlElements elements; a document over
// either is refused with kTooLarge naming the limit. Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <span>
#include <string>
#include <string_view>

#include "conveyor/result.h"

namespace conveyor::twosms::xml {

inline constexpr int kMaxXmlDepth = 32;
inline constexpr std::size_t kMaxXmlElements = 10000;
// A bulk create's body may hold more: room for kMaxBulkTasks tasks with every field given
// twice over (a request over it is refused, naming this limit).
inline constexpr std::size_t kMaxBulkXmlElements = 20000;

// Parses `text` into `doc` and checks the limits. kInvalidArgument when it is not well-formed
// XML (with pugixml's reason and the offset) or not UTF-8 (its bytes, or what a character
// reference decodes to), kTooLarge over a limit; `field` is put on the
// error ("" for a request body, "Parameters" for parameters) and `what` names the document in
// the message ("the request body", "Parameters").
Status ParseWithinLimits(std::string_view text, pugi::xml_document& doc, std::string_view what,
                         std::string_view field, std::size_t max_elements = kMaxXmlElements);

// The JSON document of a request whose root element must be `root` (AccountTaskRequest or
// AccountTaskUpdateRequest).
Result<nlohmann::json> RequestToJson(std::string_view text, std::string_view root);
// The same for a request whose fields are `fields` (e.g. ClientRequest: Name, Secret, UserID).
Result<nlohmann::json> RequestToJson(std::string_view text, std::string_view root,
                                     std::span<const std::string_view> fields);

// The JSON document {"Tasks": [...]} of a bulk create: <root><list><item>...</item>...</list>
// </root> (as XmlSerializer writes a class whose list property `list` holds `item`s), each item
// mapped as RequestToJson maps a single request; an error inside an item names it by its index
// (Tasks[2].Frequency). A missing <list> leaves "Tasks" out (the schema names it); an element
// other than <item> inside <list>, or <list> given twice, is an error naming Tasks. The body
// may hold up to kMaxBulkXmlElements elements.
Result<nlohmann::json> BulkRequestToJson(std::string_view text, std::string_view root,
                                         std::string_view list, std::string_view item);

// `envelope` (an object) as the XML document <root xmlns:xsd=... xmlns:xsi=...>...</root>.
// Array items are written as elements named `item`.
std::string EnvelopeToXml(const nlohmann::ordered_json& envelope, std::string_view root,
                          std::string_view item = "AccountTaskResponse");

}  // namespace conveyor::twosms::xml
