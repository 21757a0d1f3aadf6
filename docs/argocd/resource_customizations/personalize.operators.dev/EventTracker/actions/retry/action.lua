-- A new value of the retry annotation: the operator deletes the CREATE FAILED tracker and creates it again.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["personalize.operators.dev/retry"] = os.date("!%Y-%m-%dT%XZ")
return obj
