-- A new value of the refresh annotation: the operator runs a pass at once, reading AWS afresh.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["personalize.operators.dev/refresh"] = os.date("!%Y-%m-%dT%XZ")
return obj
