-- Argo CD resource actions for personalize.operators.dev/EventTracker (personalize-operator).
-- Runs with Argo CD's argocd-cm libraries (base, table, a restricted os): no string, no math.
local actions = {}

local annotations = {}
if obj.metadata ~= nil and obj.metadata.annotations ~= nil then
  annotations = obj.metadata.annotations
end
-- The operator reads the paused annotation case-insensitively.
local pausedValue = annotations["personalize.operators.dev/paused"]
local paused = pausedValue == "true" or pausedValue == "True" or pausedValue == "TRUE"
-- Once deleted, the finalizer owns the resource: no action changes what happens.
local deleting = obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil

local createFailed = false
if obj.status ~= nil and obj.status.phase == "Failed" and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" and condition.reason == "CreateFailed" then
      createFailed = true
    end
  end
end

actions["pause"] = {
  ["disabled"] = paused or deleting,
  ["iconClass"] = "fa fa-fw fa-pause-circle",
  ["displayName"] = "Pause reconciliation"
}
actions["resume"] = {
  ["disabled"] = not paused or deleting,
  ["iconClass"] = "fa fa-fw fa-play-circle",
  ["displayName"] = "Resume reconciliation"
}
actions["retry"] = {
  ["disabled"] = not createFailed or deleting,
  ["iconClass"] = "fa fa-fw fa-redo",
  ["displayName"] = "Retry the failed creation"
}
actions["refresh"] = {
  ["disabled"] = paused or deleting,
  ["iconClass"] = "fa fa-fw fa-sync",
  ["displayName"] = "Refresh from AWS now"
}
return actions
