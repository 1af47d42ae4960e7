#include "http/target.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace conveyor::http {

Result<Target> ParseTarget(std::string_view target) {
  auto uri = boost::urls::parse_uri_reference(target);
  if (!uri)
    return Fail(ErrorCode::kInvalidArgument,
                "the request target is not a URI (RFC 3986): " + uri.error().message() +
                    "; percent-encode spaces, non-ASCII bytes and '%' itself");
  Target out;
  out.path = uri->path();
  if (out.path.empty()) out.path = "/";
  for (auto param : uri->params(boost::urls::encoding_opts(true)))
    out.params.emplace(param.key, param.value);
  return out;
}

}  // namespace conveyor::http
