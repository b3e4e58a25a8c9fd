{{/* The release's base name. */}}
{{- define "tollgate-agent.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tollgate-agent.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tollgate-agent.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tollgate-agent.tokenSecret" -}}
{{- if .Values.joinTokenSecret -}}{{ .Values.joinTokenSecret }}{{- else -}}{{ include "tollgate-agent.fullname" . }}-join{{- end -}}
{{- end -}}

{{- define "tollgate-agent.serviceAccount" -}}
{{- if .Values.serviceAccount.name -}}{{ .Values.serviceAccount.name }}{{- else if .Values.serviceAccount.create -}}{{ include "tollgate-agent.fullname" . }}{{- else -}}default{{- end -}}
{{- end -}}

{{/* Fails the render with what to set, before anything is applied. */}}
{{- define "tollgate-agent.validate" -}}
{{- if ne (toString .Values.roles) "db" -}}
{{- fail (printf "roles=%v: this chart runs the database service only; set roles=db" .Values.roles) -}}
{{- end -}}
{{- if not .Values.proxyAddr -}}
{{- fail "proxyAddr is required: control's API address, e.g. --set proxyAddr=tollgate.example.com:7080" -}}
{{- end -}}
{{- if and (not .Values.authToken) (not .Values.joinTokenSecret) -}}
{{- fail "a join token is required: --set authToken=$(tollctl tokens add --type=db --format=text), or joinTokenSecret=<Secret with key auth-token>" -}}
{{- end -}}
{{- if and (not .Values.databases) (not .Values.resources) -}}
{{- fail "nothing to serve: set databases[0].name, databases[0].uri and databases[0].protocol (or resources)" -}}
{{- end -}}
{{- range $i, $db := .Values.databases -}}
{{- if or (not $db.name) (not $db.uri) -}}
{{- fail (printf "databases[%d] needs name and uri (HOST:PORT)" $i) -}}
{{- end -}}
{{- end -}}
{{- if not (has .Values.auditMode (list "strict" "async")) -}}
{{- fail (printf "auditMode=%v: strict or async" .Values.auditMode) -}}
{{- end -}}
{{- end -}}
