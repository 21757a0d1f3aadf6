{{/* Chart name, overridable. */}}
{{- define "personalize-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name alone when it already contains the chart name. */}}
{{- define "personalize-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "personalize-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the operator pod; never change them (Deployment selectors are immutable). */}}
{{- define "personalize-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "personalize-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "personalize-operator.labels" -}}
helm.sh/chart: {{ include "personalize-operator.chart" . }}
{{ include "personalize-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: personalize-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "personalize-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "personalize-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "personalize-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The watched namespaces, checked: the schema checks too, this guards --skip-schema-validation. */}}
{{- define "personalize-operator.watchedNamespaces" -}}
{{- if eq .Values.watch.mode "namespaces" }}
{{- if not .Values.watch.namespaces }}
{{- fail "watch.mode=namespaces needs at least one namespace in watch.namespaces" }}
{{- end }}
{{- toYaml (uniq .Values.watch.namespaces) }}
{{- else if eq .Values.watch.mode "cluster" }}
{{- if .Values.watch.namespaces }}
{{- fail "watch.namespaces is only used with watch.mode=namespaces; empty it for watch.mode=cluster" }}
{{- end }}
{{- toYaml list }}
{{- else }}
{{- fail (printf "watch.mode must be cluster or namespaces, not %q" .Values.watch.mode) }}
{{- end }}
{{- end }}

{{/*
The operator's permissions, the same in both modes (one ClusterRole, bound
cluster-wide or by a RoleBinding per watched namespace). Each rule is proven needed by tests/chart/test_chart_least_privilege.py:
without it the lifecycle breaks. The operator runs with kopf scanning off
(PERSONALIZE_OPERATOR_SCANNING=false), so it needs no list/watch on
customresourcedefinitions or namespaces.
*/}}
{{- define "personalize-operator.rules" -}}
# kopf lists and watches EventTrackers and patches them to add and remove the
# finalizer; each pass reads its object fresh (get), and adoption checks that a
# tracker's owner still exists (get).
- apiGroups: ["personalize.operators.dev"]
  resources: ["eventtrackers"]
  verbs: ["get", "list", "watch", "patch"]
# status (phase, conditions, ARN) is written through the status subresource.
- apiGroups: ["personalize.operators.dev"]
  resources: ["eventtrackers/status"]
  verbs: ["patch"]
# Kubernetes Events on every phase change and error (kopf only creates them).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
# The trackingId Secret: read, create, repair (update), delete on rename and
# deletion. With secretWatch.enabled also list and watch, label-selected by the
# operator, so a deleted or edited Secret heals in seconds.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "update", "delete"{{ if .Values.secretWatch.enabled }}, "list", "watch"{{ end }}]
# The ConfigMap of an EventTracker's spec.configMapName (ARN, name, dataset
# group, region, account; never the trackingId): written, healed and watched
# exactly like the Secret.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "update", "delete"{{ if .Values.secretWatch.enabled }}, "list", "watch"{{ end }}]
{{- end }}

{{/*
rbac.rolloutRestart only: restart the workloads of spec.rolloutRestartTargets when
the trackingId changes, as `kubectl rollout restart` does (one patch of a
pod-template annotation). patch only: no read, no other change. Bound like the
rules above (cluster-wide in mode 1, per watched namespace in mode 2).
*/}}
{{- define "personalize-operator.restartRules" -}}
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["patch"]
{{- end }}

{{/*
Namespaces mode only: the operator keeps a finalizer (personalize.operators.dev/rbac-guard)
on its RoleBinding in each watched namespace while EventTrackers exist there, so
deleting the namespace cannot take its permissions away before it has deleted their
AWS trackers; it removes the finalizer when the last EventTracker is gone (or when it
stops during an uninstall). Only that RoleBinding, by name: get to read its
finalizers, patch to change them.
*/}}
{{/* "true" when the operator guards its RoleBinding in each watched namespace, else empty. */}}
{{- define "personalize-operator.guarded" -}}
{{- if and .Values.rbac.create (eq .Values.watch.mode "namespaces") .Values.rbac.namespaceDeletionGuard }}true{{ end }}
{{- end }}

{{- define "personalize-operator.guardRules" -}}
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["rolebindings"]
  resourceNames: [{{ include "personalize-operator.fullname" . | quote }}]
  verbs: ["get", "patch"]
{{- end }}

{{/* The leader-election Lease: one name per release, in the release namespace. */}}
{{- define "personalize-operator.leaseName" -}}
{{- default (include "personalize-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
The Lease permissions, in a Role in the release namespace only. get and update name the one
Lease; create cannot: RBAC checks resourceNames against the name in the request URL, and a
create request has none (the name is in the body), so a create rule with resourceNames never
matches. The separate create rule therefore allows creating any Lease, but only in the release
namespace, and it grants no read, update or delete of any other Lease.
Each rule is proven needed by tests/chart/test_chart_least_privilege.py.
*/}}
{{- define "personalize-operator.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: [{{ include "personalize-operator.leaseName" . | quote }}]
  verbs: ["get", "update"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
{{- end }}

{{/* Timings that would let two leaders overlap stop the install (the operator refuses them too). */}}
{{- define "personalize-operator.checkLeaderElection" -}}
{{- $le := .Values.leaderElection }}
{{- if ge (float64 $le.renewDeadline) (float64 $le.leaseDuration) }}
{{- fail "leaderElection.renewDeadline must be less than leaderElection.leaseDuration" }}
{{- end }}
{{- if gt (mulf $le.retryPeriod 2) (float64 $le.renewDeadline) }}
{{- fail "leaderElection.retryPeriod must be at most half of leaderElection.renewDeadline" }}
{{- end }}
{{- end }}

{{/* "true" once the monitoring objects have what they watch: a metrics server and its Service. */}}
{{- define "personalize-operator.checkMonitoring" -}}
{{- if not .Values.metrics.enabled }}
{{- fail "metrics.serviceMonitor, metrics.prometheusRule and metrics.dashboard need metrics.enabled=true (without it the operator serves no metrics)" }}
{{- end }}
{{- true }}
{{- end }}
