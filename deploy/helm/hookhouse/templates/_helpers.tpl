{{/* Names and labels, and the pod every hookhouse service runs in. */}}

{{/* At most 52 characters: "-deliverer" and the like follow it in names that are DNS
labels (63). */}}
{{- define "hookhouse.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "hookhouse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one service; call with (list $ "ingest"). */}}
{{- define "hookhouse.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* The ports of each service (HOOKHOUSE_<NAME>_PORT; ingest's metrics have their own). */}}
{{- define "hookhouse.ports" -}}
ingest: 7700
api: 7701
router: 7702
deliverer: 7703
sink: 7704
ingest_metrics: 7705
{{- end -}}

{{- define "hookhouse.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "hookhouse.fullname" .)) -}}
{{- end -}}

{{- define "hookhouse.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Settings from the ConfigMap, secrets from the Secret: never a secret in a value.
The pod's name is its consumer's static group member id (HOOKHOUSE_INSTANCE_ID). */}}
{{- define "hookhouse.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "hookhouse.fullname" . }}-settings
  - secretRef:
      name: {{ include "hookhouse.secretName" . }}
env:
  - name: HOOKHOUSE_INSTANCE_ID
    valueFrom:
      fieldRef:
        fieldPath: metadata.name
{{- end -}}

{{/* Volumes every container writes to, as its root file system is read-only. */}}
{{- define "hookhouse.volumes" -}}
volumes:
  - name: home
    emptyDir: {}
  - name: tmp
    emptyDir: {}
{{- end -}}

{{- define "hookhouse.volumeMounts" -}}
volumeMounts:
  - name: home
    mountPath: /var/lib/hookhouse
  - name: tmp
    mountPath: /tmp
{{- end -}}

{{/* The pod template of a service; call with (list $ "ingest"). */}}
{{- define "hookhouse.podTemplate" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $values := index $root.Values $name -}}
{{- $ports := include "hookhouse.ports" $root | fromYaml -}}
{{- $port := index $ports $name -}}
{{- $metricsPort := ternary (index $ports "ingest_metrics") $port (eq $name "ingest") -}}
metadata:
  labels:
    {{- include "hookhouse.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
  annotations:
    # A change of settings or secrets rolls the pods (they read them once, at start).
    checksum/settings: {{ include (print $root.Template.BasePath "/settings.yaml") $root | sha256sum }}
    checksum/secrets: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
    {{- if $root.Values.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $metricsPort | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  # Consumers leave their group and services drain within it.
  terminationGracePeriodSeconds: 60
  containers:
    - name: {{ $name }}
      image: {{ include "hookhouse.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: [{{ $name | quote }}]
      {{- include "hookhouse.envFrom" $root | nindent 6 }}
      ports:
        - name: http
          containerPort: {{ $port }}
        {{- if eq $name "ingest" }}
        - name: metrics
          containerPort: {{ $metricsPort }}
        {{- end }}
      startupProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: 5
        failureThreshold: 60
      livenessProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      readinessProbe:
        httpGet: {path: /readyz, port: http}
        periodSeconds: 5
        timeoutSeconds: 5
        failureThreshold: 2
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      {{- include "hookhouse.volumeMounts" $root | nindent 6 }}
  {{- include "hookhouse.volumes" $root | nindent 2 }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* A PodDisruptionBudget of a service; call with (list $ "ingest"). */}}
{{- define "hookhouse.disruptionBudget" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "hookhouse.fullname" $root }}-{{ $name }}
  labels:
    {{- include "hookhouse.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  {{- toYaml (index $root.Values $name).disruptionBudget | nindent 2 }}
  selector:
    matchLabels:
      {{- include "hookhouse.selector" (list $root $name) | nindent 6 }}
{{- end -}}
