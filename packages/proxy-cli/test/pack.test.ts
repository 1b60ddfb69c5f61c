import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import { waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The three packages as a new user gets them: packed with pnpm (which writes the real versions
 * in place of workspace:*), installed together in an empty folder outside the workspace (their
 * dependencies from the registry), then the server, the CLI and an SDK script run from there.
 * Also publint and are-the-types-wrong on each tarball. Tests the built dist: `pnpm build` first.
 */
const run = promisify(execFile);
const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGES = ['proxy-server', 'proxy-client', 'proxy-cli'] as const;
type PackageName = (typeof PACKAGES)[number];
const REPOSITORY = 'git+https://github.com/async-queueing-proxy/async-queueing-proxy.git';

let workDir: string;
let appDir: string;
const tarballs = {} as Record<PackageName, string>;
let target: SlowTarget;
let server: ChildProcess | undefined;
let proxyUrl: string;

beforeAll(async () => {
  for (const name of PACKAGES) {
    if (!existsSync(join(packagesDir, name, 'dist', 'index.js'))) {
      throw new Error(`${name}/dist is missing: run \`pnpm build\` first`);
    }
  }
  workDir = await mkdtemp(join(tmpdir(), 'proxy-pack-'));
  appDir = join(workDir, 'app');
  await mkdir(appDir);
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  for (const name of PACKAGES) {
    const packs = join(workDir, name);
    await run('pnpm', ['pack', '--pack-destination', packs], { cwd: join(packagesDir, name) });
    const [file] = await readdir(packs);
    tarballs[name] = join(packs, file!);
  }
  await run('npm', ['install', '--no-audit', '--no-fund', ...Object.values(tarballs)], {
    cwd: appDir,
  });
  target = await startSlowTarget();
  ({ child: server, url: proxyUrl } = await startInstalledServer());
}, 240_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  await target?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The bin a package installed in the app folder, as `node_modules/.bin` links it. */
const bin = (name: string) => join(appDir, 'node_modules', '.bin', name);

async function startInstalledServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      bin('proxy-server'),
      '--target-host',
      target.host,
      '--target-port',
      String(target.port),
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      '0',
      '--data-dir',
      join(appDir, 'proxy-data'),
    ],
    { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const url = await waitFor(() => /proxy-server listening on (http:\/\/\S+)/.exec(output)?.[1], {
    timeoutMs: 20_000,
    what: `the installed proxy-server to listen:\n${output}`,
  });
  return { child, url };
}

/**
 * As from a user's shell: without the npm_* settings of an npm that may be running the tests
 * (`npx -p node@24 …` would otherwise make an npx look for node@24 too).
 */
function userShellEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  );
}

async function node(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(process.execPath, args, { cwd: appDir }).then(
    ({ stdout, stderr }) => ({ stdout, stderr, code: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => error,
  );
}

describe.each(PACKAGES)('the %s tarball', (name) => {
  it('carries LICENSE, a README and the way back to the project', async () => {
    const installed = join(appDir, 'node_modules', name);
    expect(await readdir(installed)).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist']),
    );
    expect(await readFile(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name,
      license: 'MIT',
      repository: { type: 'git', url: REPOSITORY, directory: `packages/${name}` },
      homepage: 'https://github.com/async-queueing-proxy/async-queueing-proxy#readme',
      bugs: 'https://github.com/async-queueing-proxy/async-queueing-proxy/issues',
    });
    for (const spec of Object.values<string>(manifest.dependencies ?? {})) {
      expect(spec).not.toMatch(/^workspace:/);
    }
  });

  it('has a README whose relative links all lead to files in the package', async () => {
    const installed = join(appDir, 'node_modules', name);
    const readme = await readFile(join(installed, 'README.md'), 'utf8');
    const relative = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map((match) => match[1]!)
      .filter((link) => !/^[a-z]+:/.test(link));
    expect(relative.filter((link) => !existsSync(join(installed, link)))).toEqual([]);
    // No command a reader would copy sends them to the registry's packages of these names.
    const commands = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]).join('\n');
    expect(commands).not.toMatch(/npm (i|install) proxy-(server|client|cli)\b/);
    expect(commands).not.toMatch(/npx (?!--no -- )[^\n]*proxy-(server|cli)\b/);
  });

  it('passes publint, strict', async () => {
    const bytes = await readFile(tarballs[name]);
    const manifest = JSON.parse(
      await readFile(join(appDir, 'node_modules', name, 'package.json'), 'utf8'),
    );
    const { messages } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) },
      strict: true,
    });
    expect(messages.map((message) => formatMessage(message, manifest))).toEqual([]);
  });

  // proxy-server is ES modules only, a Node 20+ server with a bin; the other two are also
  // require()-able, so they are checked under every resolution: node10, node16 from CJS and from
  // ESM, bundler.
  const profile = name === 'proxy-server' ? ['--profile', 'esm-only'] : [];
  it(`passes are-the-types-wrong${profile.length ? ' (ESM-only profile)' : ''}`, async () => {
    const attw = join(packagesDir, 'proxy-cli', 'node_modules', '.bin', 'attw');
    const result = await run(attw, [tarballs[name], ...profile], {
      env: { ...process.env, NO_COLOR: '1' },
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(result.code, result.stdout).toBe(0);
  });
});

describe('installed together in an empty folder', () => {
  it('are the packages from these tarballs, not the registry namesakes', async () => {
    const { stdout } = await run('npm', ['ls', '--all', '--json'], { cwd: appDir });
    const tree = JSON.stringify(JSON.parse(stdout));
    // One proxy-client, ours, shared by the CLI and the server; nothing fetched by these names.
    expect(tree.match(/"proxy-client":/g)).toHaveLength(3);
    expect(tree).not.toMatch(/registry\.npmjs\.org\/proxy-(server|client|cli)\//);
    const server = JSON.parse(
      await readFile(join(appDir, 'node_modules', 'proxy-server', 'package.json'), 'utf8'),
    );
    expect(server.repository.url).toBe(REPOSITORY);
  });

  it('npx --no -- runs the installed bins, as the docs say', async () => {
    const env = userShellEnv();
    const { stdout } = await run('npx', ['--no', '--', 'proxy-cli', '-V'], { cwd: appDir, env });
    expect(stdout.trim()).toBe('0.1.0');
  });

  it('run by npx, the CLI hints commands that run by npx, which work pasted', async () => {
    const env = userShellEnv();
    const submit = ['submit', 'api/function1', '--data', '{"from":"npx"}', '--url', proxyUrl];
    const { stderr } = await run('npx', ['--no', '--', 'proxy-cli', ...submit], {
      cwd: appDir,
      env,
    });
    const follow = /follow it with: (npx --no -- proxy-cli --url \S+ --task-id \S+ --wait)$/m.exec(
      stderr,
    )?.[1];
    expect(follow, stderr).toBeDefined();
    // As pasted into the user's shell, where no proxy-cli is on PATH.
    const pasted = await run('bash', ['-c', follow!], { cwd: appDir, env });
    expect(pasted.stdout).toMatch(/completed/);
  });

  it('the CLI submits through the installed server and waits for the result', async () => {
    const result = await node([
      bin('proxy-cli'),
      'submit',
      'api/function1',
      '--data',
      '{"from":"cli","delay_ms":200}',
      '--wait',
      '--json',
      '--url',
      proxyUrl,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'completed',
      result: { body: { params: { from: 'cli' } } },
    });
    const stats = await node([bin('proxy-cli'), 'stats', '--url', proxyUrl]);
    expect(stats.stdout).toMatch(/^tasks\.completed\t[1-9]\d*$/m);
  });

  it("proxy-cli's library entry loads through import and require", async () => {
    const source = (load: string) =>
      `${load}; const result = cli.parseArgv(['wait', 'abc'], {}, { writeOut() {} });
       console.log(JSON.stringify([cli.EXIT_CODES.timeout, result.options.action]));`;
    const expected = [124, { kind: 'task', taskId: 'abc', wait: true }];
    const esm = await node([
      '--input-type=module',
      '-e',
      source("const cli = await import('proxy-cli')"),
    ]);
    expect(JSON.parse(esm.stdout)).toEqual(expected);
    const cjs = await node([
      '--input-type=commonjs',
      '-e',
      source("const cli = require('proxy-cli')"),
    ]);
    expect(JSON.parse(cjs.stdout)).toEqual(expected);
  });

  const sdkScript = (load: string) => `
    ${load}
    const client = new ProxyClient({ baseUrl: process.argv[2] });
    (async () => {
      const id = await client.submitTask('api/function1', { from: 'sdk' });
      const task = await client.waitForTask(id, { pollInterval: 100 });
      const missing = await client.getTask('00000000-0000-4000-8000-000000000000').catch((e) => e);
      const typo = await client.waitForTask(id, { pollIntervall: 100 }).catch((e) => e);
      console.log(JSON.stringify({
        status: task.status,
        from: task.result.body.params.from,
        missing: [isTaskNotFoundError(missing), missing.code, missing.headers.get('content-type')],
        typo: [typo.name, typo.message],
        statuses: TASK_STATUSES.includes('completed'),
      }));
    })();`;
  const expected = {
    status: 'completed',
    from: 'sdk',
    missing: [true, 'task_not_found', expect.stringContaining('application/json')],
    typo: ['TypeError', expect.stringContaining("unknown option 'pollIntervall'")],
    statuses: true,
  };

  it.each([
    [
      'sdk.mjs',
      "import { ProxyClient, isTaskNotFoundError } from 'proxy-client'; import { TASK_STATUSES } from 'proxy-client/wire';",
    ],
    [
      'sdk.cjs',
      "const { ProxyClient, isTaskNotFoundError } = require('proxy-client'); const { TASK_STATUSES } = require('proxy-client/wire');",
    ],
  ])('an SDK script (%s) runs against the installed server', async (file, load) => {
    await writeFile(join(appDir, file), sdkScript(load));
    const result = await node([file, proxyUrl]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(expected);
  });
});

// New-user pass: `npm pack` made a tarball whose `workspace:*` npm's install refused, saying
// nothing but where its log was.
describe('npm pack', () => {
  it.each(['proxy-server', 'proxy-cli'])('of %s is refused, naming pnpm', async (name) => {
    // As run from `pnpm test` too, which tells npm it is pnpm (review).
    const packed = await run('npm', ['pack', '--dry-run'], {
      cwd: join(packagesDir, name),
      env: { ...process.env, npm_config_user_agent: 'pnpm/10.34.8 npm/? node/v20 linux x64' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in packed && packed.code).toBe(1);
    expect(packed.stderr).toContain(`${name}: pack it with pnpm`);
  });
});

// Packaging pass: packed before a build, the tarballs held no code, and npm installed them
// without a word; the prepack now refuses a package with no dist/, or one older than its src/.
describe('a pack without a build', () => {
  /** `check-dist.mjs` run in a package of `files` (path → mtime in seconds). */
  async function checkDist(files: Record<string, number>, dirTimes: Record<string, number> = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'proxy-check-dist-'));
    // The packages' own layout: a committed bin outside dist/ that imports the built one.
    const manifest = { main: './dist/index.js', bin: { tool: './bin/tool.js' } };
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
    await mkdir(join(dir, 'bin'));
    await writeFile(join(dir, 'bin', 'tool.js'), "import '../dist/bin.js';\n");
    for (const [path, mtime] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), '');
      await utimes(join(dir, path), mtime, mtime);
    }
    // Directories' times count too (a file removed moves them): as old as what they hold.
    for (const [path, mtime] of Object.entries(files)) {
      for (let parent = dirname(path); parent !== '.'; parent = dirname(parent)) {
        await utimes(join(dir, parent), mtime, mtime);
      }
    }
    for (const [path, mtime] of Object.entries(dirTimes))
      await utimes(join(dir, path), mtime, mtime);
    const script = join(packagesDir, '..', 'scripts', 'check-dist.mjs');
    const checked = await run(process.execPath, [script], {
      cwd: dir,
      env: { ...process.env, npm_package_name: 'some-package' },
    }).catch((error: { code: number; stderr: string }) => error);
    await rm(dir, { recursive: true, force: true });
    return checked;
  }

  it('is refused when there is no dist/', async () => {
    const checked = await checkDist({ 'src/index.ts': 1_000 });
    expect('code' in checked && checked.code).toBe(1);
    expect(checked.stderr).toBe(
      "some-package: there is no dist/ to pack: build it first (`npm run setup` at the repository's root)\n",
    );
  });

  it('is refused when src/ changed since the build', async () => {
    const checked = await checkDist({
      'dist/index.js': 1_000,
      'dist/bin.js': 1_000,
      'src/deep/module.ts': 2_000,
    });
    expect('code' in checked && checked.code).toBe(1);
    expect(checked.stderr).toContain('some-package: src/ changed since dist/ was built');
  });

  it('is refused when the build made only part of what package.json points at', async () => {
    const checked = await checkDist({ 'src/index.ts': 1_000, 'dist/index.js': 2_000 });
    expect('code' in checked && checked.code).toBe(1);
    expect(checked.stderr).toContain('some-package: dist/ lacks ./dist/bin.js');
  });

  it('is refused when a source was removed since the build', async () => {
    const checked = await checkDist(
      { 'dist/index.js': 2_000, 'dist/bin.js': 2_000, 'src/index.ts': 1_000 },
      // The directory a file left: its time is the removal's, its files all older than the build.
      { src: 3_000 },
    );
    expect('code' in checked && checked.code).toBe(1);
    expect(checked.stderr).toContain('some-package: src/ changed since dist/ was built');
  });

  it('goes on after one', async () => {
    const checked = await checkDist({
      'src/index.ts': 1_000,
      'dist/index.js': 2_000,
      'dist/bin.js': 2_000,
    });
    expect('code' in checked).toBe(false);
  });
});
