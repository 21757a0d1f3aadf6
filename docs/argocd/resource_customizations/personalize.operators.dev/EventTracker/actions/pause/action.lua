-- Stops every AWS call and Secret write for this EventTracker until resumed.
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["personalize.operators.dev/paused"] = "true"
return obj
