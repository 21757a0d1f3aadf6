-- Removes the paused annotation: the operator runs a pass at once.
if obj.metadata.annotations ~= nil then
  obj.metadata.annotations["personalize.operators.dev/paused"] = nil
end
return obj
