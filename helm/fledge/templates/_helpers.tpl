{{/* Chart name, overridable. */}}
{{- define "fledge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects; the release name alone when it already contains the chart name. */}}
{{- define "fledge.fullname" -}}
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

{{- define "fledge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fledge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fledge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "fledge.labels" -}}
helm.sh/chart: {{ include "fledge.chart" . }}
{{ include "fledge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "fledge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fledge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The controller's flags, one list item each. */}}
{{- define "fledge.args" -}}
- controller
- {{ printf "--port=%v" .Values.port | quote }}
- {{ printf "--log-level=%s" .Values.logLevel | quote }}
{{- with .Values.metricsServer }}
- {{ printf "--metrics-server=%s" . | quote }}
{{- end }}
{{- with .Values.meshProvider }}
- {{ printf "--mesh-provider=%s" . | quote }}
{{- end }}
{{- with .Values.namespace }}
- {{ printf "--namespace=%s" . | quote }}
{{- end }}
{{- with .Values.selectorLabels }}
- {{ printf "--selector-labels=%s" . | quote }}
{{- end }}
{{- with .Values.includeLabelPrefix }}
- {{ printf "--include-label-prefix=%s" . | quote }}
{{- end }}
- {{ printf "--enable-config-tracking=%t" .Values.configTracking | quote }}
{{- with .Values.clusterName }}
- {{ printf "--cluster-name=%s" . | quote }}
{{- end }}
{{- with .Values.eventWebhook }}
- {{ printf "--event-webhook=%s" . | quote }}
{{- end }}
{{- if .Values.reconciler.enabled }}
- "--enable-reconciler"
- "--reconciler-work-dir=/tmp/reconciler"
{{- end }}
{{- with .Values.minAnalysisInterval }}
- {{ printf "--min-analysis-interval=%s" . | quote }}
{{- end }}
{{- if .Values.slack.url }}
- {{ printf "--slack-url=%s" .Values.slack.url | quote }}
{{- with .Values.slack.channel }}
- {{ printf "--slack-channel=%s" . | quote }}
{{- end }}
{{- with .Values.slack.user }}
- {{ printf "--slack-user=%s" . | quote }}
{{- end }}
{{- end }}
{{- with .Values.msteams.url }}
- {{ printf "--msteams-url=%s" . | quote }}
{{- end }}
{{- if .Values.leaderElection.enabled }}
- "--enable-leader-election=true"
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}
