-- Argo CD health check for personalize.operators.dev/EventTracker (personalize-operator).
--
-- This file is the source; docs/argocd/argocd-cm.yaml embeds it and is generated from it
-- (python docs/argocd/render_argocd_cm.py). tests/unit/test_argocd_health.py runs it.
-- Written for Lua 5.1 as Argo CD runs it (gopher-lua) with only the package, base, table and a
-- restricted os library: no `string`, no `math`, no string methods. Every field may be missing.
--
--   Healthy      Ready=True and the status is current: status.observedGeneration (and the
--                Ready condition's observedGeneration, when set) equals metadata.generation.
--   Progressing  no status yet; status older than the spec; phase Pending (the message says
--                why: DatasetGroupNotFound, AccessDenied, ...), Creating or Deleting;
--                metadata.deletionTimestamp set.
--   Degraded     phase Failed (Conflict, NameConflict, CreateFailed, InvalidSpec, SecretConflict, Forbidden, OwnedByOtherCluster)
--                or the Stalled condition True: a person has to act; the message is the Ready
--                condition's "Reason: message".
local hs = {}

local DIGITS = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" }

-- A whole number as text ("3", never "3.0"), whatever number type the runtime uses. Digit by
-- digit, because Argo CD opens neither `string` nor `math` for argocd-cm health checks.
local function int_text(value)
  local number = tonumber(value)
  if number == nil or number ~= number or number == number + 1 then
    return tostring(value) -- not a number, NaN or infinite
  end
  local sign = ""
  if number < 0 then
    sign, number = "-", -number
  end
  number = number - number % 1
  local digits = {}
  repeat
    local digit = number % 10
    table.insert(digits, 1, DIGITS[digit + 1])
    number = (number - digit) / 10
  until number < 1
  return sign .. table.concat(digits)
end

-- The value when it is a non-empty string, else nil.
local function text(value)
  if type(value) == "string" and value ~= "" then
    return value
  end
  return nil
end

-- The condition of the given type in status.conditions, or nil.
local function find_condition(status, kind)
  if type(status) ~= "table" or type(status.conditions) ~= "table" then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if type(condition) == "table" and condition.type == kind then
      return condition
    end
  end
  return nil
end

-- "Reason: message", or whichever of the two is set, or the fallback.
local function explain(condition, fallback)
  if condition == nil then
    return fallback
  end
  local reason = text(condition.reason)
  local message = text(condition.message)
  if reason ~= nil and message ~= nil then
    return reason .. ": " .. message
  end
  return reason or message or fallback
end

local metadata = {}
if type(obj) == "table" and type(obj.metadata) == "table" then
  metadata = obj.metadata
end
local status = nil
if type(obj) == "table" and type(obj.status) == "table" then
  status = obj.status
end
local generation = tonumber(metadata.generation)
local ready = find_condition(status, "Ready")
local phase = nil
if status ~= nil then
  phase = text(status.phase)
end

-- Being deleted: the operator deletes (or retains) the tracker, then drops its finalizer.
if metadata.deletionTimestamp ~= nil or phase == "Deleting" then
  hs.status = "Progressing"
  if phase == "Deleting" then
    hs.message = explain(ready, "the event tracker is being deleted")
  else
    hs.message = "the EventTracker is being deleted; waiting for the operator"
  end
  return hs
end

-- The operator has not reported on the current spec yet.
local waiting = "waiting for the operator to reconcile the EventTracker"
if generation ~= nil then
  waiting = "waiting for the operator to observe generation " .. int_text(generation)
end
if status == nil then
  hs.status = "Progressing"
  hs.message = waiting
  return hs
end
local observed = tonumber(status.observedGeneration)
local ready_observed = nil
if ready ~= nil then
  ready_observed = tonumber(ready.observedGeneration)
end
if observed == nil
  or (generation ~= nil and observed ~= generation)
  or (generation ~= nil and ready_observed ~= nil and ready_observed ~= generation) then
  hs.status = "Progressing"
  hs.message = waiting
  return hs
end

local stalled = find_condition(status, "Stalled")
if phase == "Failed" or (stalled ~= nil and stalled.status == "True") then
  hs.status = "Degraded"
  hs.message = explain(ready or stalled, "the operator reports phase Failed")
  return hs
end

if phase == "Pending" or phase == "Creating" then
  hs.status = "Progressing"
  hs.message = explain(ready, "phase " .. phase)
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = explain(ready, "the event tracker is ACTIVE")
  return hs
end

hs.status = "Progressing"
if phase ~= nil then
  hs.message = explain(ready, "phase " .. phase .. "; waiting for the Ready condition")
else
  hs.message = explain(ready, "waiting for the Ready condition")
end
return hs
