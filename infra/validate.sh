#!/usr/bin/env bash
# Syntax and consistency check of everything under infra/ (no cluster or Azure account needed):
# parses every YAML/JSON file with the npm "yaml" package (installed into a temp dir), renders every
# kustomization under k8s/ (the base and each overlay) with `kubectl kustomize`, then checks the
# fields and cross-references that a parse alone would not catch, in the files and in what kustomize
# renders. Prints one line per kustomization rendered. Exit 0 = all good.
#   bash infra/validate.sh
set -euo pipefail
infra="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "validate: node and npm are required" >&2; exit 2
fi
# kubectl embeds the kustomize that `kubectl apply -k` uses. These machines come with the Debian
# package "kubectl" (from the Google Cloud SDK apt repository): install it that way where apt
# offers it, else stop, as rendering is the only check that sees a kustomization that cannot build.
if ! command -v kubectl >/dev/null && [ "$(id -u)" -eq 0 ] \
    && apt-cache policy kubectl 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; then
  echo "validate: installing kubectl"
  apt-get install -y -qq kubectl >/dev/null
fi
if ! command -v kubectl >/dev/null; then
  echo "validate: kubectl is required to render the kustomizations under infra/k8s (kubectl kustomize);" \
    "install the Debian package kubectl (Kubernetes or Google Cloud SDK apt repository)" >&2
  exit 2
fi

tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
npm install --no-save --silent --no-audit --no-fund --prefix "$tools" yaml@2 >/dev/null

# The ACA partition template is checked as deploy-partitions.sh renders it.
bash "$infra/aca/deploy-partitions.sh" --count 3 --render-only "$tools/aca-rendered" >/dev/null
# The ACA sweep template is checked as deploy-sweep.sh renders it (its count must match the grid).
bash "$infra/aca/deploy-sweep.sh" --count 12 --render-only "$tools/aca-sweep-rendered" >/dev/null
if command -v shellcheck >/dev/null; then
  shellcheck "$infra"/*.sh "$infra"/aca/*.sh
else
  echo "validate: shellcheck not installed, shell scripts not linted"
fi

# Every kustomization under k8s/ is rendered as `kubectl apply -k` would build it: a resource
# cycle, a missing base or a patch that does not apply only shows here. index.tsv lists them for
# the checks below (k8s/overlays/gpu -> k8s__overlays__gpu.yaml), with "ok" or "failed".
k8s_rendered="$tools/k8s-rendered"
mkdir -p "$k8s_rendered"
echo "validate: rendering with $(kubectl version --client 2>/dev/null \
  | sed 's/^Client Version: /kubectl /; s/^Kustomize Version: /kustomize /' | paste -sd ' ' -)"
while IFS= read -r kfile; do
  rel="$(dirname "${kfile#"$infra"/}")"
  out="$k8s_rendered/${rel//\//__}.yaml"
  if kubectl kustomize "$(dirname "$kfile")" >"$out" 2>"$out.err"; then
    printf '%s\tok\n' "$rel" >>"$k8s_rendered/index.tsv"
    [ ! -s "$out.err" ] || sed "s|^|validate: kubectl kustomize infra/$rel: |" "$out.err"
  else
    printf '%s\tfailed\n' "$rel" >>"$k8s_rendered/index.tsv"
    echo "validate: kubectl kustomize infra/$rel failed:" >&2
    sed 's/^/  /' "$out.err" >&2
  fi
done < <(find "$infra/k8s" -type f \( -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization \) | sort)

NODE_PATH="$tools/node_modules" node - "$infra" "$tools/aca-rendered" "$tools/aca-sweep-rendered" "$k8s_rendered" <<'JS'
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const [infra, rendered, sweepRendered, k8sRendered] = process.argv.slice(2);
const errors = [];
let files = 0, docs = 0;
const fail = (file, msg) => errors.push(`${path.relative(path.dirname(infra), file)}: ${msg}`);

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

function load(file) {
  files++;
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    try { docs++; return [JSON.parse(text)]; } catch (e) { fail(file, `JSON: ${e.message}`); return []; }
  }
  const out = [];
  for (const d of YAML.parseAllDocuments(text, { uniqueKeys: true })) {
    for (const e of d.errors) fail(file, `YAML: ${e.message}`);
    for (const w of d.warnings) fail(file, `YAML warning: ${w.message}`);
    if (d.errors.length === 0) { const v = d.toJS(); if (v !== null) { docs++; out.push(v); } }
  }
  return out;
}

const isObj = v => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------- Kubernetes ----------
function podSpecOf(o) {
  if (o.kind === 'Job') return o.spec?.template?.spec;
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}
function jobSpecOf(o) { return o.kind === 'Job' ? o.spec : o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec : undefined; }

function checkContainer(file, c, where) {
  if (!c.name) fail(file, `${where}: container without name`);
  if (!c.image) fail(file, `${where}: container ${c.name} without image`);
  for (const e of c.env ?? []) {
    if (!e.name) fail(file, `${where}: env entry without name`);
    if ('value' in e && typeof e.value !== 'string') fail(file, `${where}: env ${e.name} value must be a quoted string`);
    if ('value' in e === ('valueFrom' in e)) fail(file, `${where}: env ${e.name} needs exactly one of value/valueFrom`);
  }
  for (const r of ['requests', 'limits']) for (const [k, v] of Object.entries(c.resources?.[r] ?? {}))
    if (!/^[0-9.]+(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(String(v))) fail(file, `${where}: ${r}.${k} '${v}' is not a quantity`);
}

function checkWorkload(file, o) {
  const name = `${o.kind} ${o.metadata.name}`;
  const job = jobSpecOf(o), pod = podSpecOf(o);
  if (!isObj(job) || !isObj(pod)) { fail(file, `${name}: no job/pod spec`); return; }
  if (o.kind === 'CronJob') {
    if (typeof o.spec.schedule !== 'string' || o.spec.schedule.trim().split(/\s+/).length !== 5) fail(file, `${name}: schedule must be a 5-field cron string`);
    if (!['Allow', 'Forbid', 'Replace'].includes(o.spec.concurrencyPolicy ?? 'Allow')) fail(file, `${name}: bad concurrencyPolicy`);
  }
  if (!['Never', 'OnFailure'].includes(pod.restartPolicy)) fail(file, `${name}: restartPolicy must be Never or OnFailure`);
  // Retries are bounded on purpose, not by the default of 6 a forgotten field would give.
  if (job.podFailurePolicy === undefined && job.backoffLimit === undefined) fail(file, `${name}: needs a podFailurePolicy or a backoffLimit`);
  const containers = pod.containers ?? [];
  if (containers.length === 0) fail(file, `${name}: no containers`);
  const names = new Set(containers.map(c => c.name));
  [...containers, ...(pod.initContainers ?? [])].forEach(c => checkContainer(file, c, name));
  for (const c of containers) for (const e of c.env ?? []) {
    const ref = e.valueFrom?.resourceFieldRef;
    if (ref && ref.containerName && !names.has(ref.containerName)) fail(file, `${name}: env ${e.name} refers to unknown container ${ref.containerName}`);
  }
  // Volumes referenced by mounts exist.
  const vols = new Set((pod.volumes ?? []).map(v => v.name));
  for (const c of [...containers, ...(pod.initContainers ?? [])]) for (const m of c.volumeMounts ?? [])
    if (!vols.has(m.name)) fail(file, `${name}: container ${c.name} mounts unknown volume ${m.name}`);
  // Pod failure policy: needs restartPolicy Never, names real containers, never matches exit 0.
  if (job.podFailurePolicy) {
    if (pod.restartPolicy !== 'Never') fail(file, `${name}: podFailurePolicy needs restartPolicy: Never`);
    for (const r of job.podFailurePolicy.rules ?? []) {
      if (!['FailJob', 'FailIndex', 'Ignore', 'Count'].includes(r.action)) fail(file, `${name}: unknown podFailurePolicy action ${r.action}`);
      if (r.action === 'FailIndex' && job.backoffLimitPerIndex === undefined) fail(file, `${name}: FailIndex needs backoffLimitPerIndex`);
      const x = r.onExitCodes;
      if (x) {
        if (x.containerName && !names.has(x.containerName)) fail(file, `${name}: podFailurePolicy names unknown container ${x.containerName}`);
        if (x.operator === 'In' && (x.values ?? []).includes(0)) fail(file, `${name}: onExitCodes In must not contain 0`);
      }
      if (!x === !r.onPodConditions) fail(file, `${name}: a rule needs exactly one of onExitCodes/onPodConditions`);
    }
  }
  if (job.backoffLimitPerIndex !== undefined && job.completionMode !== 'Indexed') fail(file, `${name}: backoffLimitPerIndex needs completionMode: Indexed`);
  // Labeler: the partition count must match the Indexed Job's completions, and the SIGTERM
  // drain (~25 s) must fit in the grace period.
  for (const c of containers) {
    if (!(c.args ?? []).some(a => String(a).includes('kddata-labeler'))) continue;
    const count = (c.env ?? []).find(e => e.name === 'Labeler__Partition__Count');
    if (job.completionMode === 'Indexed') {
      if (!count) fail(file, `${name}: Indexed labeler without Labeler__Partition__Count`);
      else if (Number(count.value) !== job.completions) fail(file, `${name}: Labeler__Partition__Count ${count.value} != completions ${job.completions}`);
      if ((c.env ?? []).some(e => e.name === 'Labeler__Partition__Index')) fail(file, `${name}: Labeler__Partition__Index would override JOB_COMPLETION_INDEX`);
      if (job.parallelism > job.completions) fail(file, `${name}: parallelism > completions`);
    }
    if ((pod.terminationGracePeriodSeconds ?? 30) < 30) fail(file, `${name}: terminationGracePeriodSeconds < 30 cuts the Labeler's 25 s drain`);
  }
  // Sweep: an Indexed Job runs one grid point per index, so completions = the grid's point count,
  // and the index reaches --index (from the completion-index annotation).
  for (const c of containers) {
    const args = (c.args ?? []).map(String);
    if (!args.some(a => a.includes('kddata-trainer')) || args[1] !== 'sweep') continue;
    const points = gridPoints(c.env ?? [], e => e.value);
    if (points === 0) fail(file, `${name}: sweep without Trainer__Sweep__Grid__* axes`);
    if (job.completionMode === 'Indexed') {
      if (points !== job.completions) fail(file, `${name}: completions ${job.completions} != ${points} grid points`);
      if (job.parallelism > job.completions) fail(file, `${name}: parallelism > completions`);
      const i = args.indexOf('--index');
      const m = i >= 0 ? /^\$\((\w+)\)$/.exec(args[i + 1] ?? '') : null;
      const src = m && (c.env ?? []).find(e => e.name === m[1]);
      if (!src || src.valueFrom?.fieldRef?.fieldPath !== "metadata.annotations['batch.kubernetes.io/job-completion-index']")
        fail(file, `${name}: an Indexed sweep needs --index $(VAR) with VAR from the job-completion-index annotation`);
    }
  }
}

// Number of points of a sweep grid given as Trainer__Sweep__Grid__N env entries ("Key=v1,v2,..."); 0 without axes.
function gridPoints(env, valueOf) {
  const axes = env.filter(e => /^Trainer__Sweep__Grid__[0-9]+$/.test(e.name)).map(valueOf);
  return axes.length === 0 ? 0 : axes.reduce((n, v) => n * String(v).slice(String(v).indexOf('=') + 1).split(',').length, 1);
}

function checkKustomization(file, k) {
  const dir = path.dirname(file);
  for (const r of k.resources ?? []) if (!fs.existsSync(path.join(dir, r))) fail(file, `resource ${r} does not exist`);
  for (const p of k.patches ?? []) {
    if (!p.patch && !p.path) fail(file, 'patch without patch/path');
    if (p.path && !fs.existsSync(path.join(dir, p.path))) fail(file, `patch file ${p.path} does not exist`);
    if (typeof p.patch === 'string') {
      const d = YAML.parseDocument(p.patch);
      for (const e of d.errors) fail(file, `inline patch: ${e.message}`);
      const ops = d.toJS();
      if (!Array.isArray(ops)) fail(file, 'inline JSON6902 patch must be a list of operations');
      else for (const op of ops) if (!op.op || typeof op.path !== 'string' || !op.path.startsWith('/')) fail(file, `bad patch operation ${JSON.stringify(op)}`);
    }
  }
}

const k8sDir = path.join(infra, 'k8s');
const baseDir = path.join(k8sDir, 'base');
const all = walk(infra).filter(f => /\.(ya?ml|json)$/.test(f));
const byFile = new Map(all.map(f => [f, load(f)]));
const kustomizations = [];
for (const [file, list] of byFile) {
  if (!file.startsWith(k8sDir + path.sep)) continue;
  for (const o of list) {
    if (!isObj(o)) { fail(file, 'document is not a mapping'); continue; }
    if (o.kind === 'Kustomization') { checkKustomization(file, o); kustomizations.push([file, o]); continue; }
    for (const f of ['apiVersion', 'kind']) if (typeof o[f] !== 'string' || !o[f]) fail(file, `missing ${f}`);
    if (typeof o.metadata?.name !== 'string' || !o.metadata.name) fail(file, 'missing metadata.name');
    if (o.kind === 'ConfigMap' || o.kind === 'Secret') {
      for (const section of ['data', 'stringData']) for (const [k, v] of Object.entries(o[section] ?? {}))
        if (typeof v !== 'string') fail(file, `${o.kind} ${o.metadata.name}: ${section}.${k} must be a quoted string`);
      if (o.kind === 'ConfigMap' && 'Labeler__Partition__Index' in (o.data ?? {})) fail(file, 'ConfigMap must not set Labeler__Partition__Index (it would override JOB_COMPLETION_INDEX)');
    }
    if (o.kind === 'Job' || o.kind === 'CronJob') checkWorkload(file, o);
  }
}
// Every manifest in infra/k8s/base (except the example Secret) is listed by the base kustomization.
const top = kustomizations.find(([f]) => f === path.join(baseDir, 'kustomization.yaml'));
if (!top) errors.push('infra/k8s/base/kustomization.yaml is missing');
else {
  for (const f of fs.readdirSync(baseDir).filter(f => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml' && !f.includes('example')))
    if (!(top[1].resources ?? []).includes(f)) fail(top[0], `${f} is not listed in resources`);
  // Overlays match the image name as the base has rewritten it.
  const baseImage = top[1].images?.find(i => i.name === 'kddata');
  for (const [file, k] of kustomizations.filter(([f]) => f !== top[0]))
    for (const i of k.images ?? [])
      if (baseImage?.newName && i.name !== baseImage.newName) fail(file, `images: name ${i.name} must be the base's newName ${baseImage.newName}`);
}

// ---------- Kubernetes, as kustomize renders it ----------
// The workloads each kustomization must give a GPU (nvidia.com/gpu limit and Torch__Device=cuda), as
// the GPU overlay's header says; none elsewhere. A patch whose target matches nothing renders without
// an error, so a renamed Job would otherwise silently lose its GPU.
const gpuWorkloads = new Map([['k8s/overlays/gpu', ['CronJob kddata-labeler-nightly', 'Job kddata-labeler', 'Job kddata-trainer-teacher']]]);
const clusterScoped = new Set(['Namespace', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);
const imageName = image => String(image).replace(/@.*$/, '').replace(/:[^:/]*$/, '');
const indexFile = path.join(k8sRendered, 'index.tsv');
const renders = fs.existsSync(indexFile) ? fs.readFileSync(indexFile, 'utf8').split('\n').filter(Boolean).map(l => l.split('\t')) : [];
if (!renders.some(([rel]) => rel === 'k8s/base')) errors.push('infra/k8s/base was not rendered');
for (const [rel, status] of renders) {
  const label = `${path.join(infra, rel)} (rendered)`;
  const before = errors.length;
  if (status !== 'ok') {
    fail(label, 'kubectl kustomize failed (its error is printed above)');
    console.log(`validate: kustomize infra/${rel}: FAILED to render`);
    continue;
  }
  const objects = load(path.join(k8sRendered, `${rel.replaceAll('/', '__')}.yaml`));
  const kinds = new Map(), images = new Set(), gpu = [];
  for (const o of objects) {
    if (!isObj(o) || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') { fail(label, 'an object without kind or metadata.name'); continue; }
    kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    const name = `${o.kind} ${o.metadata.name}`;
    if (!clusterScoped.has(o.kind) && !o.metadata.namespace) fail(label, `${name}: no namespace (apply -k would put it in the default one)`);
    if (o.kind !== 'Job' && o.kind !== 'CronJob') continue;
    checkWorkload(label, o);
    const pod = podSpecOf(o);
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      images.add(String(c.image));
      if (imageName(c.image) === 'kddata') fail(label, `${name}: image ${c.image} was not rewritten by images:`);
      const limit = c.resources?.limits?.['nvidia.com/gpu'];
      const device = (c.env ?? []).find(e => e.name === 'Torch__Device')?.value;
      if (limit !== undefined) {
        gpu.push(name);
        if (!/^[1-9][0-9]*$/.test(String(limit))) fail(label, `${name}: nvidia.com/gpu limit '${limit}' is not a whole number of GPUs`);
        if (device !== 'cuda') fail(label, `${name}: container ${c.name} has an nvidia.com/gpu limit but no Torch__Device=cuda env entry (the ConfigMap says cpu)`);
      } else if (device === 'cuda') fail(label, `${name}: container ${c.name} sets Torch__Device=cuda without an nvidia.com/gpu limit (exits 2 without a GPU)`);
    }
  }
  const expected = gpuWorkloads.get(rel) ?? [];
  for (const w of expected) if (!gpu.includes(w)) fail(label, `${w}: no nvidia.com/gpu limit (does the overlay's patch target still match it?)`);
  for (const w of new Set(gpu)) if (!expected.includes(w)) fail(label, `${w}: has an nvidia.com/gpu limit, but validate.sh lists it as a GPU workload of no kustomization here`);
  // Each images: entry of this kustomization rewrote at least one container (kustomize ignores a name that matches none).
  const own = kustomizations.find(([f]) => path.dirname(f) === path.join(infra, rel));
  for (const i of own?.[1].images ?? []) {
    const want = (i.newName ?? i.name) + (i.digest ? `@${i.digest}` : i.newTag ? `:${i.newTag}` : '');
    if (![...images].some(im => im === want || (!i.digest && !i.newTag && imageName(im) === want))) fail(label, `images: ${i.name} rewrote no container to ${want} (rendered: ${[...images].join(', ')})`);
  }
  const problems = errors.length - before;
  const summary = [...kinds].sort().map(([k, n]) => `${n} ${k}`).join(', ');
  console.log(`validate: kustomize infra/${rel}: ${objects.length} objects (${summary}), ${new Set(gpu).size} with a GPU: ${problems ? `${problems} problem(s)` : 'OK'}`);
}

// ---------- Azure Container Apps ----------
function checkAcaJob(file, o, renderedTemplate) {
  const p = o.properties, cfg = p?.configuration, tpl = p?.template;
  if (!isObj(cfg) || !isObj(tpl)) { fail(file, 'needs properties.configuration and properties.template'); return; }
  if (typeof o.location !== 'string') fail(file, 'missing location');
  const trigger = cfg.triggerType;
  const triggerCfg = { Manual: 'manualTriggerConfig', Schedule: 'scheduleTriggerConfig', Event: 'eventTriggerConfig' }[trigger];
  if (!triggerCfg) { fail(file, `triggerType must be Manual, Schedule or Event, got ${trigger}`); return; }
  const tc = cfg[triggerCfg];
  if (!isObj(tc)) fail(file, `triggerType ${trigger} needs ${triggerCfg}`);
  if (trigger === 'Schedule' && (typeof tc?.cronExpression !== 'string' || tc.cronExpression.trim().split(/\s+/).length !== 5)) fail(file, 'cronExpression must be 5 fields');
  for (const f of ['replicaTimeout', 'replicaRetryLimit']) if (!Number.isInteger(cfg[f])) fail(file, `configuration.${f} must be an integer`);
  for (const f of ['parallelism', 'replicaCompletionCount']) if (tc && !Number.isInteger(tc[f])) fail(file, `${triggerCfg}.${f} must be an integer`);
  const secrets = new Set((cfg.secrets ?? []).map(s => s.name));
  for (const s of cfg.secrets ?? []) if (('value' in s) === ('keyVaultUrl' in s)) fail(file, `secret ${s.name} needs exactly one of value/keyVaultUrl`);
  const vols = new Set((tpl.volumes ?? []).map(v => v.name));
  if (!(tpl.containers ?? []).length) fail(file, 'template.containers is empty');
  for (const c of tpl.containers ?? []) {
    if (!c.name || !c.image) fail(file, 'container needs name and image');
    if (!c.resources || c.resources.cpu === undefined || !c.resources.memory) fail(file, `container ${c.name} needs resources.cpu and resources.memory`);
    for (const e of c.env ?? []) {
      if (('value' in e) === ('secretRef' in e)) fail(file, `env ${e.name} needs exactly one of value/secretRef`);
      if ('value' in e && typeof e.value !== 'string') fail(file, `env ${e.name} value must be a quoted string`);
      if (e.secretRef && !secrets.has(e.secretRef)) fail(file, `env ${e.name} refers to undeclared secret ${e.secretRef}`);
    }
    for (const m of c.volumeMounts ?? []) if (!vols.has(m.volumeName)) fail(file, `mount of unknown volume ${m.volumeName}`);
    // No replica index on ACA: a partitioned labeler must run one replica with a fixed index.
    const env = Object.fromEntries((c.env ?? []).filter(e => 'value' in e).map(e => [e.name, e.value]));
    // A sweep job runs one fixed grid point (ACA gives replicas no index): parallelism 1, an index set.
    if (gridPoints(c.env ?? [], e => e.value) > 0) {
      if (tc?.parallelism !== 1) fail(file, 'a sweep job must have parallelism 1 (one job per grid point)');
      if (!('Trainer__Sweep__Index' in env)) fail(file, 'a sweep job needs Trainer__Sweep__Index');
      else if (renderedTemplate && !(Number.isInteger(Number(env.Trainer__Sweep__Index)) && Number(env.Trainer__Sweep__Index) < gridPoints(c.env, e => e.value)))
        fail(file, `rendered Trainer__Sweep__Index ${env.Trainer__Sweep__Index} is not inside the grid`);
    }
    if ('Labeler__Partition__Count' in env && env.Labeler__Partition__Claim === 'true') {
      // Lease-claimed partitions: any parallelism, but no fixed index.
      if ('Labeler__Partition__Index' in env) fail(file, 'a claim-mode labeler must not set Labeler__Partition__Index');
    } else if ('Labeler__Partition__Count' in env) {
      if (tc?.parallelism !== 1) fail(file, 'a partitioned labeler job must have parallelism 1 (ACA gives replicas no index)');
      if (renderedTemplate) {
        const i = Number(env.Labeler__Partition__Index), n = Number(env.Labeler__Partition__Count);
        if (!(Number.isInteger(i) && Number.isInteger(n) && i >= 0 && i < n)) fail(file, `rendered Labeler__Partition__Index ${env.Labeler__Partition__Index} / Count ${env.Labeler__Partition__Count} are not 0 <= index < count`);
      }
    }
  }
}
const acaDir = path.join(infra, 'aca');
for (const [file, list] of byFile) if (file.startsWith(acaDir + path.sep)) list.forEach(o => checkAcaJob(file, o, false));
const renderedFiles = fs.existsSync(rendered) ? walk(rendered) : [];
if (renderedFiles.length !== 3) errors.push(`deploy-partitions.sh rendered ${renderedFiles.length} files, expected 3`);
const seen = new Set();
for (const f of renderedFiles) for (const o of load(f)) {
  checkAcaJob(f, o, true);
  seen.add(o.properties?.template?.containers?.[0]?.env?.find(e => e.name === 'Labeler__Partition__Index')?.value);
}
if (renderedFiles.length && ['0', '1', '2'].some(i => !seen.has(i))) errors.push(`rendered partition indexes ${[...seen]} are not 0,1,2`);
const sweepFiles = fs.existsSync(sweepRendered) ? walk(sweepRendered) : [];
if (sweepFiles.length !== 12) errors.push(`deploy-sweep.sh rendered ${sweepFiles.length} files, expected 12`);
const sweepSeen = new Set();
for (const f of sweepFiles) for (const o of load(f)) {
  checkAcaJob(f, o, true);
  sweepSeen.add(o.properties?.template?.containers?.[0]?.env?.find(e => e.name === 'Trainer__Sweep__Index')?.value);
}
if (sweepFiles.length && sweepSeen.size !== 12) errors.push(`rendered sweep indexes ${[...sweepSeen]} are not 0..11`);

if (errors.length) { console.error(errors.map(e => `  ${e}`).join('\n')); console.error(`validate: ${errors.length} problem(s)`); process.exit(1); }
console.log(`validate: ${files} files, ${docs} documents: OK`);
JS
