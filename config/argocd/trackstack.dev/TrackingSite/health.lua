-- Argo CD health check for trackstack.dev/TrackingSite.
-- The operator reports status the kstatus way: status.observedGeneration (-1
-- until it has looked at the object) and the conditions Ready, Reconciling and
-- Stalled, whose reasons are public API (api/v1alpha1/conditions.go).
-- Only Lua's base and table libraries are used: Argo CD does not open string or math.
local hs = {}

-- Ready=False reasons that more time will not fix: a person has to act. The
-- operator reports DestinationNotReady only for a Destination that is Ready=False
-- itself (broken, not merely rolling out).
local stalling = {SecretNotFound = true, SecretKeyMissing = true, InvalidOwnership = true, ApplyFailed = true,
  DestinationNotReady = true}

-- Ready reasons meaning the operator was told to leave the object alone.
local suspended = {Suspended = true, Paused = true}

local function condition(conditions, type)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return c.type .. " is " .. tostring(c.status)
end

-- spec.suspend tells the operator to leave the object alone; it may then not
-- even advance status.observedGeneration, so this comes before the status.
if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Suspended (spec.suspend): the operator leaves the site's objects as they are"
  return hs
end

local status = obj.status
if status == nil or status.observedGeneration == nil or status.observedGeneration < 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the trackstack operator to reconcile the TrackingSite"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the trackstack operator to reconcile generation " .. tostring(generation) ..
    " (status is of generation " .. tostring(status.observedGeneration) .. ")"
  return hs
end

local stalled = condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local ready = condition(status.conditions, "Ready")
if ready ~= nil and ready.reason ~= nil and suspended[ready.reason] then
  hs.status = "Suspended"
  hs.message = describe(ready)
  return hs
end
if ready ~= nil and ready.status == "False" and ready.reason ~= nil and stalling[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

local reconciling = condition(status.conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling)
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
-- Ready=True is Healthy whatever its reason, NoPublicHost included: the site
-- then has no snippet for browsers, but serves its backend's events.
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
hs.status = "Progressing"
hs.message = describe(ready)
return hs
