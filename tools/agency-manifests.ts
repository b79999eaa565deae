import fs from 'node:fs';
import path from 'node:path';

/**
 * The deployment of a new agency (npm run agency:new), written from national-id's: its Deployment, Service and
 * PodDisruptionBudget (deploy/k8s/<id>.yaml), its ConfigMap, its database's ExternalName Service, its ingress
 * NetworkPolicy (reached by the gateway only: a new agency serves no other agency's calls until the trust file
 * says so), the gateway's URL for it, the migrate Job's database URL and role password, the kustomization entry
 * and the image's EXPOSE line. national-id is the model because it is the plain case: sealed, called by the
 * gateway only, one database. test/deployment-files.test.ts then holds the result to the same rules as the
 * three first agencies.
 */
export interface ManifestNames {
  id: string;
  title: string;
  envPrefix: string;
  database: string;
  port: number;
  metricsPort: number;
}

const MODEL = { id: 'national-id', envPrefix: 'NATIONAL_ID', database: 'national_id', port: 4002, metricsPort: 9402 };
const K8S = 'deploy/k8s';

/** national-id's names, ports and database in a text, made the new agency's. */
function renamed(text: string, n: ManifestNames): string {
  return text
    .replaceAll(MODEL.id, n.id)
    .replaceAll(MODEL.envPrefix, n.envPrefix)
    .replaceAll(MODEL.database, n.database)
    .replaceAll(String(MODEL.port), String(n.port))
    .replaceAll(String(MODEL.metricsPort), String(n.metricsPort));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const documents = (text: string) => text.split(/\n---\n/);

/** The one document of a multi-document YAML file that has `name: <name>` in its metadata. */
function documentNamed(text: string, name: string, file: string): string {
  const found = documents(text).filter((doc) => new RegExp(`\\n {2}name: ${name}\\n`).test(`\n${doc}`));
  if (found.length !== 1) throw new Error(`${file} no longer has one document named ${name}: agency:new writes the new agency's from it.`);
  return found[0].replace(/^(#[^\n]*\n)+/, '');
}

/** `line` inserted after the last line matching `after` (a line of national-id's, usually). */
function insertAfter(text: string, after: RegExp, lines: string, file: string): string {
  const matches = [...text.matchAll(new RegExp(after.source, 'gm'))];
  if (matches.length === 0) throw new Error(`${file} no longer has the line agency:new adds after (${after.source}).`);
  const last = matches[matches.length - 1];
  const end = text.indexOf('\n', last.index!) + 1;
  return text.slice(0, end) + lines + text.slice(end);
}

export function agencyManifests(root: string, n: ManifestNames): Map<string, string> {
  const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
  const files = new Map<string, string>();

  const deployment = renamed(read(`${K8S}/${MODEL.id}.yaml`), n).replace(/^(#[^\n]*\n)+/, '');
  files.set(`${K8S}/${n.id}.yaml`, `# The ${n.id} subgraph (${n.title}), written by npm run agency:new from national-id's. Sealed: it answers only\n# calls with a credential the gateway signed; reached only by the gateway (network-policies.yaml).\n${deployment}`);

  const configFile = `${K8S}/config.yaml`;
  let config = read(configFile);
  config = insertAfter(config, /^ {2}SUBGRAPH_[A-Z_]+_URL: .*$/, `  SUBGRAPH_${n.envPrefix}_URL: http://${n.id}:${n.port}/graphql\n`, configFile);
  const agencyConfig = renamed(documentNamed(config, `${MODEL.id}-config`, configFile), n).replace(/\n {2}# Holder checks before a card is issued\.\n/, '\n');
  files.set(configFile, `${config.trimEnd()}\n---\n${agencyConfig.trimEnd()}\n`);

  const servicesFile = `${K8S}/external-services.yaml`;
  const services = read(servicesFile);
  files.set(servicesFile, `${services.trimEnd()}\n---\n${renamed(documentNamed(services, `${MODEL.id}-db`, servicesFile), n).trimEnd()}\n`);

  const policiesFile = `${K8S}/network-policies.yaml`;
  const policies = read(policiesFile);
  files.set(policiesFile, `${policies.trimEnd()}\n---\n${renamed(documentNamed(policies, `${MODEL.id}-ingress`, policiesFile), n).trimEnd()}\n`);

  const jobFile = `${K8S}/migrate-job.yaml`;
  let job = read(jobFile);
  const secretEntry = (variable: string, secret: string) =>
    `            - name: ${variable}\n              valueFrom:\n                secretKeyRef: { name: ${secret}, key: ${n.id} }\n`;
  job = insertAfter(job, /^ {16}secretKeyRef: \{ name: migrate-database-urls, key: national-id \}$/, secretEntry(`${n.envPrefix}_DATABASE_URL`, 'migrate-database-urls'), jobFile);
  job = insertAfter(job, /^ {16}secretKeyRef: \{ name: database-role-passwords, key: national-id \}$/, secretEntry(`CG_${n.envPrefix}_DB_PASSWORD`, 'database-role-passwords'), jobFile);
  files.set(jobFile, job);

  const kustomizationFile = `${K8S}/kustomization.yaml`;
  files.set(kustomizationFile, insertAfter(read(kustomizationFile), /^ {2}- [a-z0-9-]+\.yaml$(?=[\s\S]*network-policies)/, `  - ${n.id}.yaml\n`, kustomizationFile));

  // The README's installation commands create every Secret the manifests reference (the deployment test holds them to it).
  let readme = read('README.md');
  const model = (line: string) => `kubectl -n citizen-graph create secret generic ${MODEL.id}-${line}`;
  readme = insertAfter(readme, new RegExp(`^${escape(model('service-key'))} .*$`), `${renamed(/^kubectl .*national-id-service-key .*$/m.exec(readme)![0], n)}\n`, 'README.md');
  const urls = new RegExp(`^${escape(model('database-urls'))} \\\\\n.*\\\\\n.*$`, 'm').exec(readme);
  if (!urls) throw new Error('README.md no longer creates the national-id-database-urls Secret in three lines.');
  readme = readme.replace(urls[0], `${urls[0]}\n${renamed(urls[0], n)}`);
  readme = readme.replace(
    /^( {2}--from-literal=national-id='postgresql:\/\/owner:[^\n]*\n)/m,
    (line) => `${line}  --from-literal=${n.id}='postgresql://owner:…@${n.id}-db:5432/${n.database}' \\\n`,
  );
  readme = readme.replace(/(--from-literal=national-id=… )/, `$1--from-literal=${n.id}=… `);
  files.set('README.md', readme);

  const dockerfile = read('Dockerfile');
  const expose = /^EXPOSE (.*)$/m.exec(dockerfile);
  if (!expose) throw new Error('Dockerfile no longer has an EXPOSE line.');
  const ports = [...new Set([...expose[1].split(/\s+/).map(Number), n.port, n.metricsPort])].sort((a, b) => a - b);
  files.set('Dockerfile', dockerfile.replace(expose[0], `EXPOSE ${ports.join(' ')}`));
  return files;
}
