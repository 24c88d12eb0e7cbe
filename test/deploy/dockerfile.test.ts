// deploy/Dockerfile builds, without a container engine: its WORKDIR, COPY, ENV
// and RUN steps are played stage by stage, in order, with the same commands,
// each stage's file system a fresh temporary directory; then the runtime
// stage's files run `sipstorm --version` and validate a bundled scenario
// through the image's ENTRYPOINT. npm installs from the local cache where it
// can (npm_config_prefer_offline). Also holds the image to its rules: base
// image pinned to a full version, no package fetched by npx, not root at run.

import t from 'tap';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ROOT } from '../support/cli.js';

interface Step {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string;
  steps: Step[];
}

/** Instructions by stage: comments dropped, backslash continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++i]!.trim();
    line = line.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`deploy/Dockerfile:${first}: cannot read '${line}'`);
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2]!.trim())!;
      stages.push({ image: f[1]!, name: f[2] ?? String(stages.length), steps: [] });
    } else {
      if (!stages.length) throw new Error(`deploy/Dockerfile:${first}: ${keyword} before FROM`);
      stages[stages.length - 1]!.steps.push({ keyword, args: m[2]!.trim(), line: first });
    }
  }
  return stages;
}

function exec(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (status) => {
      clearTimeout(killer);
      resolve({ status, out });
    });
  });
}

// Two `npm ci` (the build stage's installs every dev dependency, 160 MB) are disk-bound: about 25 s on an idle
// machine, up to minutes on a busy one. The file's time limit is raised for them (tap's default is .taprc's).
t.setTimeout(600_000);

const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);

t.test('the Dockerfile keeps to the rules of the image', async (t) => {
  t.same(stages.map((s) => s.name), ['build', 'runtime'], 'two stages: build, then runtime');
  for (const s of stages) t.match(s.image, /^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/, `${s.name}: base image pinned to a full version (${s.image})`);
  const runs = stages.flatMap((s) => s.steps.filter((x) => x.keyword === 'RUN').map((x) => x.args));
  t.notOk(runs.some((r) => /\bnpx\b|typescript@/.test(r)), 'no package fetched at build time by npx');
  const runtime = stages[stages.length - 1]!;
  const user = runtime.steps.filter((x) => x.keyword === 'USER').pop()?.args;
  t.ok(user !== undefined && !/^(root|0)(:|$)/.test(user), `the runtime stage runs as a user that is not root (${user})`);
  t.ok(runtime.steps.some((x) => x.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(x.args)), 'the runtime stage installs production dependencies only');
});

t.test('the build and runtime steps, played in order, give an image whose sipstorm runs', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'sipstorm-docker-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const roots = new Map<string, string>();
  const inRoot = (root: string, path: string) => join(root, path);
  let entry: string[] = [];
  let runtimeWorkdir = '';
  for (const stage of stages) {
    const root = join(tmp, stage.name);
    mkdirSync(root);
    roots.set(stage.name, root);
    let workdir = '/';
    const env: Record<string, string> = { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
    for (const step of stage.steps) {
      const where = `deploy/Dockerfile:${step.line} (${stage.name})`;
      switch (step.keyword) {
        case 'WORKDIR':
          workdir = step.args.startsWith('/') ? step.args : join(workdir, step.args);
          mkdirSync(inRoot(root, workdir), { recursive: true });
          break;
        case 'ENV': {
          const m = /^(\w+)=(\S*)$/.exec(step.args);
          if (!m) throw new Error(`${where}: ENV NAME=VALUE expected`);
          env[m[1]!] = m[2]!;
          break;
        }
        case 'COPY': {
          const words = step.args.split(/\s+/);
          const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
          const paths = words.filter((w) => !w.startsWith('--'));
          const dest = paths.pop()!;
          const destPath = inRoot(root, dest.startsWith('/') ? dest : join(workdir, dest));
          const sourceRoot = from === undefined ? ROOT : roots.get(from);
          if (!sourceRoot) throw new Error(`${where}: no stage '${from}' before this one`);
          for (const src of paths) {
            const srcPath = join(sourceRoot, src);
            t.ok(existsSync(srcPath), `${where}: COPY ${src} exists`);
            // Docker: several sources or a destination ending in / is a directory the sources go into.
            const target = paths.length > 1 || dest.endsWith('/') ? join(destPath, basename(src)) : destPath;
            cpSync(srcPath, target, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          const r = await exec('sh', ['-c', step.args], inRoot(root, workdir), env);
          t.equal(r.status, 0, `${where}: RUN ${step.args}`, { output: r.out.slice(-2000) });
          if (r.status !== 0) return;
          break;
        }
        case 'USER':
          break; // files here belong to whoever runs the test
        case 'ENTRYPOINT':
          entry = JSON.parse(step.args) as string[];
          break;
        default:
          t.fail(`${where}: ${step.keyword} is not played by this test`);
      }
    }
    runtimeWorkdir = inRoot(root, workdir);
  }
  const runtime = roots.get('runtime')!;
  const modules = readdirSync(join(runtime, 'opt/sipstorm/node_modules'));
  for (const dep of ['ajv', 'yaml', 'hdr-histogram-js']) t.ok(modules.includes(dep), `runtime: ${dep} installed`);
  for (const dev of ['typescript', 'tap', '@types', 'playwright-core']) t.notOk(modules.includes(dev), `runtime: no ${dev} (a dev dependency)`);
  t.notOk(existsSync(join(runtime, 'opt/sipstorm/dist/test')), 'runtime: no compiled tests');
  t.same(entry.slice(0, 1), ['node'], 'ENTRYPOINT runs node');
  const main = inRoot(runtime, entry[1]!);
  t.ok(existsSync(main), `ENTRYPOINT ${entry[1]} is in the runtime stage`);
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const v = await exec('node', [main, '--version'], runtimeWorkdir, {});
  t.equal(v.status, 0, v.out);
  t.equal(v.out.trim(), `sipstorm ${version}`, 'sipstorm --version from the runtime stage');
  const check = await exec('node', [main, 'validate', inRoot(runtime, '/opt/sipstorm/scenarios/register-auth.yaml')], runtimeWorkdir, {});
  t.equal(check.status, 0, `a bundled scenario validates against the bundled schema: ${check.out.trim()}`);
  t.ok(existsSync(join(runtime, 'opt/sipstorm/dist/schemas/scenario.validate.cjs')), 'runtime: the scenario validator was built ahead (no ajv compile per run)');
});
