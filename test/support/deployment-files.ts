import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/**
 * Reading the deployment files (Dockerfile, deploy/k8s/) as Docker and Kubernetes would, for
 * test/deployment-files.test.ts: what environment a container gets, which files it sees where and with what
 * mode, which Service a URL reaches, who a NetworkPolicy lets in. Only what the manifests use is modelled;
 * anything else (subPath, matchExpressions, ipBlock, envFrom a Secret...) is refused loudly rather than guessed.
 */
export const ROOT = path.resolve(__dirname, '../..');
export const K8S_DIR = path.join(ROOT, 'deploy/k8s');
export const DOCKERFILE = path.join(ROOT, 'Dockerfile');

export type Labels = Readonly<Record<string, string>>;

/** A Kubernetes object as parsed; the checks read its spec as the API documents it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

export interface Manifest {
  file: string;
  object: K8sObject;
}

/** Kubernetes reads YAML 1.1 (0400 is octal there, and yes/on are booleans); so do these checks. */
function parseYaml(file: string): unknown[] {
  const documents = parseAllDocuments(fs.readFileSync(file, 'utf8'), { version: '1.1' });
  const list = Array.isArray(documents) ? documents : [documents];
  for (const document of list) {
    if (document.errors.length > 0) throw new Error(`${path.relative(ROOT, file)}: ${document.errors[0].message}`);
  }
  return list.map((document) => document.toJS()).filter((value) => value !== null);
}

/** Every object of every manifest in the folder (kustomization.yaml apart). */
export function readManifests(dir = K8S_DIR): Manifest[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
    .sort()
    .flatMap((name) => parseYaml(path.join(dir, name)).map((object) => ({ file: name, object: object as K8sObject })));
}

export function readKustomization(dir = K8S_DIR): { resources: string[]; namespace?: string; images?: { name: string; newName?: string; newTag?: string }[] } {
  return parseYaml(path.join(dir, 'kustomization.yaml'))[0] as ReturnType<typeof readKustomization>;
}

export const objectsOf = (manifests: readonly Manifest[], kind: string) => manifests.filter((m) => m.object.kind === kind).map((m) => m.object);

export function find(manifests: readonly Manifest[], kind: string, name: string): K8sObject | undefined {
  return manifests.find((m) => m.object.kind === kind && m.object.metadata.name === name)?.object;
}

// ---------------------------------------------------------------------------------------------------------
// Workloads

export type Container = any;
export type PodSpec = any;

/** A Deployment or Job: its pod template and the process its (one) main container runs. */
export interface Workload {
  object: K8sObject;
  component: string;
  podLabels: Labels;
  pod: PodSpec;
  container: Container;
}

export const COMPONENT_LABEL = 'app.kubernetes.io/component';

export function workloads(manifests: readonly Manifest[]): Workload[] {
  return manifests
    .filter((m) => m.object.kind === 'Deployment' || m.object.kind === 'Job')
    .map(({ object }) => {
      const template = object.spec.template;
      const containers = template.spec.containers as Container[];
      if (containers.length !== 1) throw new Error(`${object.kind} ${object.metadata.name}: one container per pod (the process), found ${containers.length}`);
      return { object, component: template.metadata.labels[COMPONENT_LABEL], podLabels: template.metadata.labels, pod: template.spec, container: containers[0] };
    });
}

export const matchesLabels = (selector: Labels | undefined, labels: Labels) =>
  Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);

/** The container port a probe, Service or policy names (by name or number). */
export function containerPort(container: Container, port: string | number): { name?: string; containerPort: number } | undefined {
  return (container.ports ?? []).find((p: { name?: string; containerPort: number }) => p.name === port || p.containerPort === port);
}

/** The source file a container's command runs (dist/x/y.js is built from x/y.ts), or why not. */
export function entrySource(command: readonly string[] | undefined): { source?: string; problem?: string } {
  if (!command || command.length !== 2 || command[0] !== 'node') return { problem: `the command must be exactly [node, dist/<entry>.js], not ${JSON.stringify(command)}` };
  const match = /^dist\/(.+)\.js$/.exec(command[1]);
  if (!match) return { problem: `${command[1]} is not a file of the build (dist/...js)` };
  const source = `${match[1]}.ts`;
  if (!fs.existsSync(path.join(ROOT, source))) return { problem: `${command[1]} would be built from ${source}, which does not exist` };
  return { source };
}

/** The configuration module an entry reads its settings with (`import { readConfig } from './config'`). */
export function configModuleOf(source: string): string | undefined {
  const text = fs.readFileSync(path.join(ROOT, source), 'utf8');
  const match = /import\s*\{[^}]*\breadConfig\b[^}]*\}\s*from\s*'(\.{1,2}\/[^']+)'/.exec(text);
  return match ? path.join(path.dirname(source), `${match[1]}.ts`) : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Environment

export interface EnvSources {
  /** The value the installation keeps under `key` of Secret `name` (a test value here). */
  secret(name: string, key: string): string;
  /** Downward API values (metadata.name, ...). */
  fieldRef(fieldPath: string): string;
}

export interface ContainerEnvironment {
  env: Record<string, string>;
  /** Variables named in another's value as $(NAME): set to be expanded, whether or not a process reads them. */
  referenced: Set<string>;
}

/**
 * What the container's process finds in its environment: the image's ENV, then envFrom (in order), then env
 * (in order, each $(NAME) expanded from what is defined before it, as the kubelet does).
 */
export function containerEnvironment(manifests: readonly Manifest[], container: Container, sources: EnvSources, imageEnv: Record<string, string> = {}): ContainerEnvironment {
  const env: Record<string, string> = { ...imageEnv };
  const referenced = new Set<string>();
  const configMapValue = (name: string, key?: string): Record<string, string> => {
    const map = find(manifests, 'ConfigMap', name);
    if (!map) throw new Error(`ConfigMap ${name} is referenced but not defined in deploy/k8s`);
    if (key !== undefined && map.data?.[key] === undefined) throw new Error(`ConfigMap ${name} has no key ${key}`);
    return map.data ?? {};
  };
  for (const source of container.envFrom ?? []) {
    if (!source.configMapRef || source.prefix) throw new Error(`envFrom: only whole ConfigMaps (every Secret value is named one by one, env[].valueFrom), not ${JSON.stringify(source)}`);
    Object.assign(env, configMapValue(source.configMapRef.name));
  }
  for (const entry of container.env ?? []) {
    let value: string;
    if (entry.value !== undefined) {
      value = String(entry.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => {
        referenced.add(name);
        return env[name] ?? whole;
      });
    } else if (entry.valueFrom?.secretKeyRef) value = sources.secret(entry.valueFrom.secretKeyRef.name, entry.valueFrom.secretKeyRef.key);
    else if (entry.valueFrom?.configMapKeyRef) value = configMapValue(entry.valueFrom.configMapKeyRef.name, entry.valueFrom.configMapKeyRef.key)[entry.valueFrom.configMapKeyRef.key];
    else if (entry.valueFrom?.fieldRef) value = sources.fieldRef(entry.valueFrom.fieldRef.fieldPath);
    else throw new Error(`env ${entry.name}: unsupported source ${JSON.stringify(entry.valueFrom)}`);
    env[entry.name] = value;
  }
  return { env, referenced };
}

/**
 * The environment as a config module sees it, recording every name it looks up. A module that enumerated
 * the environment (a spread, Object.keys) could read anything: that is refused, since what it reads could
 * no longer be told.
 */
export function recordingReads(env: Readonly<Record<string, string>>): { env: Record<string, string | undefined>; reads: Set<string> } {
  const reads = new Set<string>();
  const target: Record<string, string | undefined> = { ...env };
  const proxy = new Proxy(target, {
    get(t, name) {
      if (typeof name === 'string') reads.add(name);
      return typeof name === 'string' ? t[name] : undefined;
    },
    has(t, name) {
      if (typeof name === 'string') reads.add(name);
      return name in t;
    },
    ownKeys() {
      throw new Error('a configuration module enumerated the environment: which settings it reads can no longer be told');
    },
  });
  return { env: proxy, reads };
}

/** The secret and config references of a workload (env and volumes), to document and to give test values. */
export function externalReferences(manifests: readonly Manifest[], workload: Workload): { kind: 'Secret' | 'ConfigMap'; name: string; key: string }[] {
  const refs: { kind: 'Secret' | 'ConfigMap'; name: string; key: string }[] = [];
  for (const container of [...(workload.pod.initContainers ?? []), ...workload.pod.containers]) {
    for (const entry of container.env ?? []) {
      const secret = entry.valueFrom?.secretKeyRef;
      if (secret) refs.push({ kind: 'Secret', name: secret.name, key: secret.key });
    }
  }
  for (const volume of workload.pod.volumes ?? []) {
    if (volume.secret) for (const item of volume.secret.items ?? []) refs.push({ kind: 'Secret', name: volume.secret.secretName, key: item.key });
    if (volume.configMap && !find(manifests, 'ConfigMap', volume.configMap.name)) {
      for (const item of volume.configMap.items ?? []) refs.push({ kind: 'ConfigMap', name: volume.configMap.name, key: item.key });
    }
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------------------
// Files

export interface FileSources {
  /** A host file holding what the installation keeps under `key` of the Secret or ConfigMap `name`. */
  file(kind: 'Secret' | 'ConfigMap', name: string, key: string): string;
}

/**
 * A pod's volumes laid out on this machine under `root` (root/<volume>/...), with the modes the kubelet
 * gives them: a Secret or ConfigMap file gets its item's mode, else the volume's defaultMode, else 0644, and
 * with an fsGroup the group may read it too (kubernetes/kubernetes#57923: 0400 becomes 0440).
 */
export class PodFiles {
  constructor(
    readonly root: string,
    readonly workload: Workload,
    private readonly manifests: readonly Manifest[],
  ) {}

  materialize(sources: FileSources): void {
    const fsGroup = this.workload.pod.securityContext?.fsGroup;
    for (const volume of this.workload.pod.volumes ?? []) {
      const dir = path.join(this.root, volume.name);
      fs.mkdirSync(dir, { recursive: true });
      const projected = volume.secret ?? volume.configMap;
      if (projected) {
        const kind = volume.secret ? 'Secret' : 'ConfigMap';
        const name = volume.secret ? volume.secret.secretName : volume.configMap.name;
        if (!projected.items) throw new Error(`volume ${volume.name}: list the items (keys) the pod needs`);
        for (const item of projected.items as { key: string; path: string; mode?: number }[]) {
          const file = path.join(dir, item.path);
          const defined = kind === 'ConfigMap' ? find(this.manifests, 'ConfigMap', name)?.data?.[item.key] : undefined;
          fs.mkdirSync(path.dirname(file), { recursive: true });
          if (defined !== undefined) fs.writeFileSync(file, defined);
          else fs.copyFileSync(sources.file(kind, name, item.key), file);
          const mode = (item.mode ?? projected.defaultMode ?? 0o644) | (fsGroup !== undefined ? 0o440 : 0);
          fs.chmodSync(file, mode);
        }
      } else if (!volume.emptyDir && !volume.persistentVolumeClaim) {
        throw new Error(`volume ${volume.name}: unsupported kind ${Object.keys(volume).join(', ')}`);
      }
    }
  }

  /** The volume and mount a path of the container lies in (the longest mount path that holds it). */
  mountOf(container: Container, containerPath: string): { mount: { name: string; mountPath: string; readOnly?: boolean }; volume: Record<string, unknown> } | undefined {
    const mounts = [...(container.volumeMounts ?? [])] as { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
    const holding = mounts
      .filter((m) => containerPath === m.mountPath || containerPath.startsWith(m.mountPath.replace(/\/$/, '') + '/'))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (!holding) return undefined;
    if (holding.subPath) throw new Error(`mount ${holding.mountPath}: subPath is not modelled`);
    const volume = (this.workload.pod.volumes ?? []).find((v: { name: string }) => v.name === holding.name);
    if (!volume) throw new Error(`mount ${holding.mountPath} names volume ${holding.name}, which the pod does not have`);
    return { mount: holding, volume };
  }

  /** Where a path of the container is on this machine. */
  hostPath(container: Container, containerPath: string): string {
    const found = this.mountOf(container, containerPath);
    if (!found) throw new Error(`${containerPath} is in no volume of ${container.name}: on a read-only image it could only be a file of the image`);
    return path.join(this.root, found.mount.name, path.relative(found.mount.mountPath, containerPath));
  }

  /** Runs each init container's command here, its absolute paths moved to where their volumes are. */
  runInitContainers(): void {
    for (const init of this.workload.pod.initContainers ?? []) {
      const [command, ...args] = init.command as string[];
      const result = spawnSync(command, args.map((arg) => (arg.startsWith('/') ? this.hostPath(init, arg) : arg)), { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`init container ${init.name} failed: ${result.stderr || result.error}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Services and network policies

/** The workload and container port an in-cluster URL (http://residents:4001/graphql) reaches, if it names a Service. */
export function reach(manifests: readonly Manifest[], url: string): { service: K8sObject; workload: Workload; port: number } | undefined {
  const parsed = new URL(url);
  const service = find(manifests, 'Service', parsed.hostname.split('.')[0]);
  if (!service || service.spec.type === 'ExternalName') return undefined;
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const servicePort = (service.spec.ports ?? []).find((p: { port: number }) => p.port === port);
  if (!servicePort) throw new Error(`${url}: Service ${service.metadata.name} has no port ${port}`);
  const targets = workloads(manifests).filter((w) => matchesLabels(service.spec.selector, w.podLabels));
  if (targets.length !== 1) throw new Error(`${url}: Service ${service.metadata.name} selects ${targets.length} workloads`);
  const target = containerPort(targets[0].container, servicePort.targetPort ?? servicePort.port);
  if (!target) throw new Error(`${url}: Service ${service.metadata.name} targets port ${servicePort.targetPort}, which ${targets[0].component} does not declare`);
  return { service, workload: targets[0], port: target.containerPort };
}

export interface Peers {
  /** Anyone at all (no policy isolates the pod for that port, or a rule without `from`). */
  anyone: boolean;
  /** Components of this namespace (their pods' app.kubernetes.io/component). */
  components: Set<string>;
  /** Other namespaces, by name. */
  namespaces: Set<string>;
}

/** Who the NetworkPolicies let reach a workload's pods on one of its container ports. */
export function peersOf(manifests: readonly Manifest[], target: Workload, port: { name?: string; containerPort: number }): Peers {
  const policies = objectsOf(manifests, 'NetworkPolicy').filter(
    (p) => matchesLabels(selector(p.spec.podSelector, `NetworkPolicy ${p.metadata.name}`), target.podLabels) && (p.spec.policyTypes ?? ['Ingress']).includes('Ingress'),
  );
  const peers: Peers = { anyone: policies.length === 0, components: new Set(), namespaces: new Set() };
  const all = workloads(manifests);
  for (const policy of policies) {
    for (const rule of policy.spec.ingress ?? []) {
      const ports = rule.ports as { port?: string | number }[] | undefined;
      if (ports && !ports.some((p) => p.port === undefined || p.port === port.name || p.port === port.containerPort)) continue;
      if (!rule.from || rule.from.length === 0) {
        peers.anyone = true;
        continue;
      }
      for (const from of rule.from) {
        const where = `NetworkPolicy ${policy.metadata.name}`;
        if (from.ipBlock || (from.podSelector && from.namespaceSelector)) throw new Error(`${where}: only podSelector or namespaceSelector peers are modelled`);
        if (from.podSelector) for (const w of all.filter((w) => matchesLabels(selector(from.podSelector, where), w.podLabels))) peers.components.add(w.component);
        if (from.namespaceSelector) {
          const name = selector(from.namespaceSelector, where)['kubernetes.io/metadata.name'];
          if (!name) throw new Error(`${where}: a namespaceSelector must name the namespace (kubernetes.io/metadata.name)`);
          peers.namespaces.add(name);
        }
      }
    }
  }
  return peers;
}

function selector(value: { matchLabels?: Labels; matchExpressions?: unknown[] } | undefined, where: string): Labels {
  if (value?.matchExpressions) throw new Error(`${where}: matchExpressions are not modelled`);
  return value?.matchLabels ?? {};
}

// ---------------------------------------------------------------------------------------------------------
// Dockerfile

export interface DockerInstruction {
  keyword: string;
  args: string;
}

export interface DockerStage {
  image: string;
  name?: string;
  instructions: DockerInstruction[];
}

/** The Dockerfile's stages, with line continuations joined, comments dropped and ARG defaults put into FROM. */
export function readDockerfile(file = DOCKERFILE): { stages: DockerStage[] } {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const instructions: DockerInstruction[] = [];
  let pending = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (pending !== '' && line.startsWith('#')) continue;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(pending)!;
    instructions.push({ keyword: keyword.toUpperCase(), args });
    pending = '';
  }
  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string, b: string) => globalArgs[a ?? b] ?? '').split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [name, value] = instruction.args.split('=');
      globalArgs[name] = value ?? '';
    } else if (stages.length > 0) stages[stages.length - 1].instructions.push(instruction);
  }
  return { stages };
}

/** ENV of a stage (KEY=value pairs). */
export function stageEnv(stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const pair of args.match(/\w+=("[^"]*"|\S+)/g) ?? []) {
      const [name, ...value] = pair.split('=');
      env[name] = value.join('=').replace(/^"|"$/g, '');
    }
  }
  return env;
}
