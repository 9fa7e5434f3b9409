import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  describeConfig,
  ENV_KEYS,
  formatConfigDescription,
  loadConfig,
  parseEnvBoolean,
  secretValues,
} from '../../../src/config/load-config.ts';
import { FileConfig } from '../../../src/config/schema.ts';
import { ConfigError } from '../../../src/shared/errors.ts';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const CANARY = 'CANARY-value-7f3a9c1e';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'harness-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Asserts that `fn` throws a ConfigError whose message contains every `contains` string and no
 * trace of the canary value.
 */
function expectConfigError(fn: () => unknown, contains: readonly string[]): void {
  expect(fn).toThrow(ConfigError);
  for (const text of contains) expect(fn).toThrow(text);
  expect(fn).toThrow(expect.objectContaining({ message: expect.not.stringContaining('CANARY') }));
}

describe('loadConfig: files and defaults', () => {
  it('uses the embedded defaults when the default config.yaml is missing', () => {
    const config = loadConfig({ env: {}, cwd: dir });
    const defaults = FileConfig.parse({});
    expect(config.configPath).toBe(join(dir, 'config.yaml'));
    expect(config.dataDir).toBe(join(dir, 'data'));
    expect(config.workspaceRoot).toBe(join(dir, 'workspace'));
    expect(config.rolesDir).toBe(join(dir, 'roles'));
    expect(config.scenariosPath).toBe(join(dir, 'scenarios', 'default.yaml'));
    expect(config.model.provider).toBe('scripted');
    expect(config.budgets).toEqual(defaults.budgets);
    expect(config.policy).toEqual(defaults.policy);
    expect(config.logLevel).toBe('info');
    expect(config.secrets).toEqual({});
    expect(config.slack).toEqual({ mode: 'local', apiUrl: null, port: 3000 });
    expect(config.crashAt).toBeNull();
  });

  it('validates the shipped config.yaml and reads its non-default values', async () => {
    const text = await readFile(join(REPO, 'config.yaml'), 'utf8');
    expect(text.length).toBeGreaterThan(0);
    const config = loadConfig({ env: {}, cwd: REPO });
    expect(config.configPath).toBe(join(REPO, 'config.yaml'));
    expect(config.dataDir).toBe(join(REPO, 'data'));
    expect(config.policy.approvers.default).toEqual(['U_APPROVER1', 'U_APPROVER2']);
    expect(config.policy.network.allowHosts).toEqual(['example.com']);
    expect(config.policy.filesystem.roots).toEqual(['reports']);
    expect(config.policy.fourEyes).toBe(true);
    expect(config.model.provider).toBe('scripted');
    // Apart from the two documented demo values, the file is the defaults written out.
    const defaults = FileConfig.parse({});
    expect(config.budgets).toEqual(defaults.budgets);
    expect(config.policy.categories).toEqual(defaults.policy.categories);
    expect(config.policy.gateTtlMs).toBe(defaults.policy.gateTtlMs);
    expect(config.policy.reminderBeforeMs).toBe(defaults.policy.reminderBeforeMs);
  });

  it('treats a missing file at an explicit path as an error', () => {
    expect(() => loadConfig({ env: { HARNESS_CONFIG: 'nope.yaml' }, cwd: dir })).toThrow(/config file not found/);
    expect(() => loadConfig({ env: {}, cwd: dir, argvConfigPath: 'other.yaml' })).toThrow(ConfigError);
  });

  it('prefers --config over HARNESS_CONFIG', async () => {
    await writeFile(join(dir, 'a.yaml'), 'logLevel: warn\n');
    await writeFile(join(dir, 'b.yaml'), 'logLevel: debug\n');
    const config = loadConfig({ env: { HARNESS_CONFIG: 'a.yaml' }, cwd: dir, argvConfigPath: 'b.yaml' });
    expect(config.logLevel).toBe('debug');
    expect(config.configPath).toBe(join(dir, 'b.yaml'));
  });

  it('treats an empty file as all defaults', async () => {
    await writeFile(join(dir, 'config.yaml'), '# nothing here\n');
    expect(loadConfig({ env: {}, cwd: dir }).logLevel).toBe('info');
  });

  it('resolves relative paths against the config file directory, not the cwd', async () => {
    const confDir = join(dir, 'etc', 'harness');
    await mkdir(confDir, { recursive: true });
    await writeFile(
      join(confDir, 'config.yaml'),
      'dataDir: ../state\nworkspace: { root: ws }\nroles: { dir: my-roles }\nmodel: { scenarios: s.yaml }\n',
    );
    const config = loadConfig({ env: { HARNESS_CONFIG: 'etc/harness/config.yaml' }, cwd: dir });
    expect(config.dataDir).toBe(join(dir, 'etc', 'state'));
    expect(config.workspaceRoot).toBe(join(confDir, 'ws'));
    expect(config.rolesDir).toBe(join(confDir, 'my-roles'));
    expect(config.roles.dir).toBe(join(confDir, 'my-roles'));
    expect(config.scenariosPath).toBe(join(confDir, 's.yaml'));
    expect(config.model.scenarios).toBe(join(confDir, 's.yaml'));
  });

  it('keeps absolute paths as they are', async () => {
    const abs = join(dir, 'abs-data');
    await writeFile(join(dir, 'config.yaml'), `dataDir: ${JSON.stringify(abs)}\n`);
    expect(loadConfig({ env: {}, cwd: dir }).dataDir).toBe(abs);
  });
});

describe('loadConfig: validation errors', () => {
  it('names the path of an unknown key', async () => {
    await writeFile(join(dir, 'config.yaml'), 'policy:\n  fourEyes: true\n  approverz: [U1]\n');
    expectConfigError(() => loadConfig({ env: {}, cwd: dir }), ['policy.approverz: unknown key']);
  });

  it('names an unknown top-level key', async () => {
    await writeFile(join(dir, 'config.yaml'), 'slakc: {}\n');
    expectConfigError(() => loadConfig({ env: {}, cwd: dir }), ['slakc: unknown key']);
  });

  it('names the key of a bad value and never prints the value', async () => {
    await writeFile(
      join(dir, 'config.yaml'),
      [
        `logLevel: ${CANARY}`,
        'model:',
        `  provider: ${CANARY}`,
        `  baseUrl: ${CANARY}`,
        'budgets:',
        `  maxTurns: ${CANARY}`,
        'policy:',
        '  categories:',
        `    read_only: ${CANARY}`,
        '  tools:',
        `    http_fetch: { enabled: ${CANARY} }`,
        '',
      ].join('\n'),
    );
    expectConfigError(
      () => loadConfig({ env: {}, cwd: dir }),
      [
        'logLevel: expected one of',
        'model.provider: expected one of "scripted", "openai"',
        'model.baseUrl: expected a valid url',
        'budgets.maxTurns: expected number',
        'policy.categories.read_only: expected one of',
        'policy.tools.http_fetch.enabled: expected boolean',
      ],
    );
  });

  it('lists every problem, one per line', async () => {
    await writeFile(join(dir, 'config.yaml'), 'budgets: { maxTurns: 0, maxTokens: -1 }\nfoo: 1\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        details: { problems: ['budgets.maxTurns: must be > 0', 'budgets.maxTokens: must be > 0', 'foo: unknown key'] },
      }),
    );
  });

  it('reports a YAML syntax error by line without quoting the source', async () => {
    await writeFile(join(dir, 'config.yaml'), `logLevel: info\nmodel: [${CANARY}\n`);
    expectConfigError(() => loadConfig({ env: {}, cwd: dir }), ['YAML ']);
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/YAML \w+ at line \d+/);
  });

  it('rejects duplicate keys and a non-mapping document', async () => {
    await writeFile(join(dir, 'config.yaml'), 'logLevel: info\nlogLevel: warn\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/DUPLICATE_KEY/);
    await writeFile(join(dir, 'config.yaml'), '- a\n- b\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/<root>: expected a mapping/);
  });

  it('treats __proto__ in the file as an unknown key, not a prototype', async () => {
    await writeFile(join(dir, 'config.yaml'), '__proto__: { logLevel: debug }\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/__proto__: unknown key/);
  });
});

describe('loadConfig: environment', () => {
  it('applies the documented overrides', () => {
    const config = loadConfig({
      cwd: dir,
      env: {
        HARNESS_DATA_DIR: 'elsewhere',
        HARNESS_MODEL: 'llama3.1',
        HARNESS_MODEL_PROVIDER: 'openai',
        OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
        LOG_LEVEL: 'debug',
        BOT_CRASH_AT: 'after-gate-persisted',
      },
    });
    expect(config.dataDir).toBe(join(dir, 'elsewhere'));
    expect(config.model.name).toBe('llama3.1');
    expect(config.model.provider).toBe('openai');
    expect(config.model.baseUrl).toBe('http://127.0.0.1:11434/v1');
    expect(config.logLevel).toBe('debug');
    expect(config.crashAt).toBe('after-gate-persisted');
  });

  it('resolves a relative HARNESS_DATA_DIR against the cwd even when the file lives elsewhere', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'conf', 'c.yaml'), 'dataDir: from-file\n');
    const viaFile = loadConfig({ env: { HARNESS_CONFIG: 'conf/c.yaml' }, cwd: dir });
    expect(viaFile.dataDir).toBe(join(dir, 'conf', 'from-file'));
    const viaEnv = loadConfig({ env: { HARNESS_CONFIG: 'conf/c.yaml', HARNESS_DATA_DIR: 'from-env' }, cwd: dir });
    expect(viaEnv.dataDir).toBe(join(dir, 'from-env'));
  });

  it('does not switch the provider just because an OpenAI key or base URL is set', async () => {
    const config = loadConfig({ cwd: dir, env: { OPENAI_API_KEY: 'sk-test-key-123456', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' } });
    expect(config.model.provider).toBe('scripted');
    expect(config.secrets.openaiApiKey).toBe('sk-test-key-123456');
    await writeFile(join(dir, 'config.yaml'), 'model: { provider: openai }\n');
    expect(loadConfig({ cwd: dir, env: {} }).model.provider).toBe('openai');
  });

  it('names the env var of a bad override without its value', () => {
    expectConfigError(
      () => loadConfig({ cwd: dir, env: { LOG_LEVEL: CANARY, HARNESS_MODEL_PROVIDER: CANARY, OPENAI_BASE_URL: CANARY } }),
      ['logLevel (from LOG_LEVEL): ', 'model.provider (from HARNESS_MODEL_PROVIDER): ', 'model.baseUrl (from OPENAI_BASE_URL): '],
    );
  });

  it('reads secrets only from the environment and treats empty values as unset', () => {
    const config = loadConfig({
      cwd: dir,
      env: {
        SLACK_BOT_TOKEN: 'xoxb-1-bot',
        SLACK_APP_TOKEN: 'xapp-1-app',
        SLACK_SIGNING_SECRET: '',
        MCP_HTTP_TOKEN: 'mcp-token-123',
      },
    });
    expect(config.secrets).toEqual({ slackBotToken: 'xoxb-1-bot', slackAppToken: 'xapp-1-app', mcpHttpToken: 'mcp-token-123' });
    expect(secretValues(config).sort()).toEqual(['mcp-token-123', 'xapp-1-app', 'xoxb-1-bot']);
  });

  it('rejects a secrets section in the file', async () => {
    await writeFile(join(dir, 'config.yaml'), `secrets: { slackBotToken: ${CANARY} }\n`);
    expectConfigError(() => loadConfig({ env: {}, cwd: dir }), ['secrets: unknown key']);
  });

  it('picks the Slack mode from the tokens and SLACK_MODE', () => {
    expect(loadConfig({ cwd: dir, env: {} }).slack.mode).toBe('local');
    expect(loadConfig({ cwd: dir, env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' } }).slack.mode).toBe('socket');
    const http = loadConfig({
      cwd: dir,
      env: { SLACK_MODE: 'http', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'sign-123', PORT: '8080', SLACK_API_URL: 'http://127.0.0.1:9/api/' },
    });
    expect(http.slack).toEqual({ mode: 'http', apiUrl: 'http://127.0.0.1:9/api/', port: 8080, explicit: true });
    expect(loadConfig({ cwd: dir, env: { SLACK_MODE: 'local', SLACK_BOT_TOKEN: 'xoxb-1' } }).slack.mode).toBe('local');
  });

  it('fails fast on Slack settings that cannot work, naming the keys only', () => {
    expect(() => loadConfig({ cwd: dir, env: { SLACK_MODE: 'http', SLACK_BOT_TOKEN: 'xoxb-1' } })).toThrow(
      /SLACK_SIGNING_SECRET: required when SLACK_MODE is http/,
    );
    expect(() => loadConfig({ cwd: dir, env: { SLACK_BOT_TOKEN: 'xoxb-1' } })).toThrow(/without SLACK_APP_TOKEN/);
    expect(() => loadConfig({ cwd: dir, env: { SLACK_APP_TOKEN: 'xapp-1' } })).toThrow(/SLACK_BOT_TOKEN: required/);
    expectConfigError(
      () => loadConfig({ cwd: dir, env: { SLACK_BOT_TOKEN: 'xapp-CANARY-1', SLACK_APP_TOKEN: 'xoxb-CANARY-2' } }),
      ['SLACK_BOT_TOKEN: looks like an app-level token', 'SLACK_APP_TOKEN: looks like a bot or user token'],
    );
    expectConfigError(
      () => loadConfig({ cwd: dir, env: { SLACK_MODE: CANARY, PORT: CANARY, SLACK_API_URL: CANARY } }),
      ['SLACK_MODE: expected one of', 'PORT: expected an integer', 'SLACK_API_URL: expected an http(s) URL'],
    );
  });
});

describe('loadConfig: .env', () => {
  it('reads .env from the cwd, and the process environment wins', async () => {
    await writeFile(
      join(dir, '.env'),
      ['# comment', 'LOG_LEVEL=warn', 'export HARNESS_MODEL="from-dotenv"', "OPENAI_API_KEY='sk-dotenv-123456'", ''].join('\n'),
    );
    const fromFile = loadConfig({ cwd: dir, env: {} });
    expect(fromFile.logLevel).toBe('warn');
    expect(fromFile.model.name).toBe('from-dotenv');
    expect(fromFile.secrets.openaiApiKey).toBe('sk-dotenv-123456');
    const overridden = loadConfig({ cwd: dir, env: { LOG_LEVEL: 'error' } });
    expect(overridden.logLevel).toBe('error');
    expect(overridden.model.name).toBe('from-dotenv');
  });

  it('can name the config file from .env', async () => {
    await writeFile(join(dir, 'alt.yaml'), 'logLevel: trace\n');
    await writeFile(join(dir, '.env'), 'HARNESS_CONFIG=alt.yaml\n');
    expect(loadConfig({ cwd: dir, env: {} }).logLevel).toBe('trace');
  });

  it('reports a malformed .env line by number without its content', async () => {
    await writeFile(join(dir, '.env'), `LOG_LEVEL=info\n${CANARY}\n`);
    expectConfigError(() => loadConfig({ cwd: dir, env: {} }), ['line 2: expected KEY=VALUE']);
  });
});

describe('parseEnvBoolean', () => {
  it('accepts only true|false|1|0', () => {
    expect(parseEnvBoolean('X', 'true')).toBe(true);
    expect(parseEnvBoolean('X', '1')).toBe(true);
    expect(parseEnvBoolean('X', 'FALSE')).toBe(false);
    expect(parseEnvBoolean('X', '0')).toBe(false);
    expect(parseEnvBoolean('X', undefined, true)).toBe(true);
    expect(parseEnvBoolean('X', '', false)).toBe(false);
    expect(() => parseEnvBoolean('MY_FLAG', 'yes')).toThrow(ConfigError);
    expect(() => parseEnvBoolean('MY_FLAG', 'yes')).toThrow(/^MY_FLAG: expected true, false, 1 or 0$/);
  });
});

describe('describeConfig', () => {
  it('never contains a secret value, only set/not set', () => {
    const secrets = {
      SLACK_BOT_TOKEN: 'xoxb-CANARY-bot-1111',
      SLACK_APP_TOKEN: 'xapp-CANARY-app-2222',
      OPENAI_API_KEY: 'sk-CANARY-key-33333333',
      MCP_HTTP_TOKEN: 'CANARY-mcp-44444444',
    };
    const config = loadConfig({
      cwd: dir,
      env: { ...secrets, HARNESS_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: 'https://user:CANARY-pw@llm.example.com/v1?key=CANARY' },
    });
    const description = describeConfig(config);
    const text = `${JSON.stringify(description)}\n${formatConfigDescription(description)}`;
    expect(text).not.toContain('CANARY');
    expect(description.secrets).toEqual({
      SLACK_BOT_TOKEN: 'set',
      SLACK_APP_TOKEN: 'set',
      SLACK_SIGNING_SECRET: 'not set',
      OPENAI_API_KEY: 'set',
      MCP_HTTP_TOKEN: 'set',
    });
    expect(description.model.baseUrl).toBe('https://llm.example.com/v1');
    expect(description.slack.mode).toBe('socket');
  });

  it('says when the offline scripted model is in use', () => {
    const description = describeConfig(loadConfig({ cwd: dir, env: {} }));
    expect(description.model.provider).toBe('scripted');
    expect(description.model.note).toMatch(/offline/);
    expect(formatConfigDescription(description)).toMatch(/model\s+scripted/);
  });
});

describe('.env.example', () => {
  it('lists every environment variable the loader reads, with no secret values', async () => {
    const text = await readFile(join(REPO, '.env.example'), 'utf8');
    const assigned = new Map(
      text
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    for (const key of [...ENV_KEYS.secrets, ...ENV_KEYS.settings, ...ENV_KEYS.testOnly]) {
      expect(assigned.has(key), key).toBe(true);
    }
    for (const key of ENV_KEYS.secrets) expect(assigned.get(key), key).toBe('');
    // Each variable has a comment line right above it.
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (/^[A-Z_]+=/.test(line)) expect(lines[i - 1]?.startsWith('#'), line).toBe(true);
    });
  });

  it('loads as an all-empty .env without changing the defaults', async () => {
    await writeFile(join(dir, '.env'), await readFile(join(REPO, '.env.example'), 'utf8'));
    const config = loadConfig({ cwd: dir, env: {} });
    expect(config.secrets).toEqual({});
    expect(config.slack.mode).toBe('local');
    expect(config.logLevel).toBe('info');
  });
});
