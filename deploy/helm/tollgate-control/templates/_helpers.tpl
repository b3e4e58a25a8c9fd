{{- define "tollgate-control.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tollgate-control.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tollgate-control.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tollgate-control.serviceAccount" -}}
{{- if .Values.serviceAccount.name -}}{{ .Values.serviceAccount.name }}{{- else if .Values.serviceAccount.create -}}{{ include "tollgate-control.fullname" . }}{{- else -}}default{{- end -}}
{{- end -}}

{{- define "tollgate-control.publicAddr" -}}
{{- .Values.publicAddr | default (printf "%s.%s.svc:%v" (include "tollgate-control.fullname" .) .Release.Namespace .Values.service.apiPort) -}}
{{- end -}}

{{/* Several controls keep their keys in NATS KV (control.keystore nats). */}}
{{- define "tollgate-control.keystore" -}}
{{- if gt (int .Values.replicas) 1 -}}nats{{- else -}}file{{- end -}}
{{- end -}}

{{- define "tollgate-control.validate" -}}
{{- if lt (int .Values.replicas) 1 -}}
{{- fail (printf "replicas=%v: at least 1" .Values.replicas) -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.nats.url) -}}
{{- fail (printf "replicas=%v: several controls share one NATS cluster; set nats.url to its seed URLs (and nats.replicas=3), or replicas=1 for the embedded server" .Values.replicas) -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.sealKeySecret) -}}
{{- fail (printf "replicas=%v: several controls share their CA keys sealed in NATS KV; set sealKeySecret to a Secret (key seal.key) every control mounts" .Values.replicas) -}}
{{- end -}}
{{- if and (not .Values.nats.url) (gt (int .Values.nats.replicas) 1) -}}
{{- fail (printf "nats.replicas=%v needs a NATS cluster: set nats.url to its seed URLs, or nats.replicas=1 for the embedded server" .Values.nats.replicas) -}}
{{- end -}}
{{- if and .Values.nats.url .Values.nats.leafPort -}}
{{- fail "nats.leafPort is control's embedded NATS listener for leaf agents: with nats.url, leaf agents are not supported yet; set nats.leafPort=0" -}}
{{- end -}}
{{- if and (not .Values.nats.url) (or .Values.nats.credsSecret .Values.nats.tlsSecret) -}}
{{- fail "nats.credsSecret and nats.tlsSecret are for nats.url (an existing NATS cluster)" -}}
{{- end -}}
{{- end -}}
