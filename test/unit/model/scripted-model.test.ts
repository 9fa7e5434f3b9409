import { describe, expect, it } from 'vitest';
import { ModelBehaviorError } from '../../../src/shared/errors.ts';
import { DEFAULT_SCENARIOS_PATH } from '../../../src/model/create-model.ts';
import type { ModelMessage, ModelResponse, ModelToolSpec } from '../../../src/model/port.ts';
import { ScriptedModel, UnexpectedModelCallError } from '../../../src/model/scripted-model.ts';

const TOOLS: ModelToolSpec[] = [{ name: 'workspace_search', description: 'search', parameters: { type: 'object' } }];
const SYSTEM: ModelMessage = { role: 'system', content: 'You are a researcher.' };

const INCIDENT_NOTE = [
  '# Incident 42: durable execution outage',
  '',
  'The durable execution queue stalled for 40 minutes. Lunch was good.',
  'Root cause: a durable execution worker lost its lease. The on-call engineer restarted it.',
  '- Execution resumed at 10:40.',
  'Durable storage was never at risk.',
].join('\n');

type ToolHandler = (args: Record<string, unknown>) => string;

/** Plays the runner: calls the model, answers each tool call, until a final answer. */
async function drive(
  model: ScriptedModel,
  task: string,
  handlers: Record<string, ToolHandler>,
  maxTurns = 10,
): Promise<{ messages: ModelMessage[]; responses: ModelResponse[] }> {
  const messages: ModelMessage[] = [SYSTEM, { role: 'user', content: task }];
  const responses: ModelResponse[] = [];
  for (let turn = 0; turn < maxTurns; turn += 1) {
    const response = await model.complete({ messages, tools: TOOLS });
    responses.push(response);
    messages.push({ role: 'assistant', content: response.content, toolCalls: response.toolCalls });
    if (response.toolCalls.length === 0) return { messages, responses };
    for (const call of response.toolCalls) {
      const handler = handlers[call.name];
      if (!handler) throw new Error(`test has no handler for ${call.name}`);
      messages.push({ role: 'tool', toolCallId: call.id, content: handler(JSON.parse(call.argumentsJson ?? '{}') as Record<string, unknown>) });
    }
  }
  throw new Error('no final answer');
}

const workspace: Record<string, ToolHandler> = {
  workspace_search: (args) =>
    JSON.stringify({ query: args['query'], matches: [{ path: 'notes/incident-42.md', score: 2, excerpt: 'durable execution' }] }),
  workspace_read: (args) => JSON.stringify({ path: args['path'], content: INCIDENT_NOTE }),
  workspace_write: (args) => JSON.stringify({ path: args['path'], bytes: String(args['content']).length, unchanged: false }),
  http_fetch: () => JSON.stringify({ status: 200, contentType: 'text/html', body: '<p>hi</p>' }),
};

describe('ScriptedModel from the default scenarios', () => {
  it('runs the report scenario: search → read → write → say, with deterministic ids', async () => {
    const model = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    const { responses } = await drive(model, 'Please write a short report on durable execution', workspace);

    expect(model.name).toBe('scripted');
    expect(responses.map((r) => r.toolCalls.map((c) => c.name))).toEqual([
      ['workspace_search'],
      ['workspace_read'],
      ['workspace_write'],
      [],
    ]);
    expect(responses.flatMap((r) => r.toolCalls.map((c) => c.id))).toEqual(['call_0_0', 'call_1_0', 'call_2_0']);
    expect(JSON.parse(responses[0]?.toolCalls[0]?.argumentsJson ?? '')).toEqual({ query: 'durable execution' });
    expect(JSON.parse(responses[1]?.toolCalls[0]?.argumentsJson ?? '')).toEqual({ path: 'notes/incident-42.md' });

    const write = JSON.parse(responses[2]?.toolCalls[0]?.argumentsJson ?? '') as { path: string; content: string };
    expect(write.path).toBe('reports/durable-execution.md');
    expect(write.content).toBe(
      [
        '# Report: Durable Execution',
        '',
        '## Key Findings',
        '',
        '- [notes/incident-42.md] Incident 42: durable execution outage',
        '- [notes/incident-42.md] The durable execution queue stalled for 40 minutes.',
        '- [notes/incident-42.md] Root cause: a durable execution worker lost its lease.',
        '',
        '## Harness Notes',
        '',
        '- Drafted offline by the scripted model (no AI provider was called) and written to the workspace only after human approval.',
        '',
      ].join('\n'),
    );
    expect(responses[3]?.content).toBe('Report written to reports/durable-execution.md');
    expect(responses[3]?.usage.inputTokens).toBeGreaterThan(0);
    expect(responses[3]?.usage.outputTokens).toBe(Math.ceil('Report written to reports/durable-execution.md'.length / 4));
  });

  it('is resumable: the same message prefix gives the same answer from a fresh instance', async () => {
    const first = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    const { messages, responses } = await drive(first, 'write a report on durable execution', workspace);
    // Every prefix that ended with the model's turn about to happen: replay each on a new model.
    const fresh = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    let answered = 0;
    for (let i = 0; i < messages.length; i += 1) {
      if (messages[i]?.role !== 'assistant') continue;
      const replay = await fresh.complete({ messages: messages.slice(0, i), tools: TOOLS });
      expect(replay).toEqual(responses[answered]);
      answered += 1;
    }
    expect(answered).toBe(4);
  });

  it('answers with on_error when the latest tool result starts with "ERROR: " (a human rejection)', async () => {
    const model = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    const { responses } = await drive(model, 'write a report on durable execution', {
      ...workspace,
      workspace_write: () => 'ERROR: rejected by U123: wrong folder, use drafts/',
    });
    expect(responses.at(-1)).toMatchObject({
      content: 'I did not write the report: rejected by U123: wrong folder, use drafts/',
      toolCalls: [],
    });
    expect(responses).toHaveLength(4);
  });

  it('throws UnexpectedModelCallError (a ModelBehaviorError) when called past the last step', async () => {
    const model = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    const { messages } = await drive(model, 'write a report on durable execution', workspace);
    const call = model.complete({ messages, tools: TOOLS });
    await expect(call).rejects.toThrow(UnexpectedModelCallError);
    await expect(model.complete({ messages, tools: TOOLS })).rejects.toThrow(ModelBehaviorError);
    await expect(model.complete({ messages, tools: TOOLS })).rejects.toThrow(/scenario "report" has no step at position 4/);
  });

  it('summarises incident notes from the read content', async () => {
    const model = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    const { responses } = await drive(model, 'summarise the incident notes', workspace);
    expect(responses.map((r) => r.toolCalls.map((c) => c.name))).toEqual([['workspace_search'], ['workspace_read'], []]);
    expect(JSON.parse(responses[0]?.toolCalls[0]?.argumentsJson ?? '')).toEqual({ query: 'incident notes' });
    expect(responses[2]?.content).toBe('Summary of notes/incident-42.md: Incident 42: durable execution outage');
  });

  it('fetches the first URL in the task and says the status', async () => {
    const model = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    const { responses } = await drive(model, 'please fetch <https://example.com/status?x=1|example.com>.', workspace);
    expect(responses[0]?.toolCalls).toEqual([
      { id: 'call_0_0', name: 'http_fetch', argumentsJson: JSON.stringify({ url: 'https://example.com/status?x=1' }) },
    ]);
    expect(responses[1]?.content).toBe('Fetched https://example.com/status?x=1 (HTTP status 200).');
  });

  it('falls back to help, saying it is the scripted offline model', async () => {
    const model = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    const { responses } = await drive(model, 'what is the weather like?', workspace);
    expect(responses).toHaveLength(1);
    expect(responses[0]?.content).toMatch(/scripted offline model/);
  });

  it('starts over at a follow-up user message, continuing the turn numbering for ids', async () => {
    const model = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    const { messages } = await drive(model, 'hello', workspace);
    messages.push({ role: 'user', content: 'now write a report on durable execution' });
    const next = await model.complete({ messages, tools: TOOLS });
    expect(next.toolCalls[0]).toMatchObject({ id: 'call_1_0', name: 'workspace_search' });
  });

  it('records requests and honours an aborted signal', async () => {
    const model = ScriptedModel.fromScenarios(DEFAULT_SCENARIOS_PATH);
    await model.complete({ messages: [{ role: 'user', content: 'help' }], tools: TOOLS });
    expect(model.requests).toEqual([{ messages: [{ role: 'user', content: 'help' }], tools: TOOLS }]);
    const controller = new AbortController();
    controller.abort(new Error('shutdown'));
    await expect(model.complete({ messages: [{ role: 'user', content: 'help' }], tools: TOOLS, signal: controller.signal })).rejects.toThrow('shutdown');
  });
});

describe('ScriptedModel templates', () => {
  function single(steps: unknown[], extra: Record<string, unknown> = {}): ScriptedModel {
    return ScriptedModel.fromScenarios({ scenarios: [{ name: 't', match: '.', steps, ...extra }] });
  }

  it('renders task, keywords and slug (kebab-case, at most 48 characters)', async () => {
    const model = single([{ say: '{{task}} | {{keywords}} | {{slug}}' }]);
    const task = 'Write a report on the Äpfel supply-chain and quarterly logistics performance across regions';
    const response = await model.complete({ messages: [{ role: 'user', content: task }], tools: [] });
    const [echo, keywords, slug] = (response.content ?? '').split(' | ');
    expect(echo).toBe(task);
    expect(keywords).toBe('äpfel supply chain quarterly logistics performance across regions');
    expect(slug).toBe('apfel-supply-chain-quarterly-logistics');
    expect(slug?.length).toBeLessThanOrEqual(48);
  });

  it('renders last.<path> with array indices, keeps JSON types for a whole-value template, and blanks missing paths', async () => {
    const model = single([
      { calls: [{ name: 'probe' }] },
      { calls: [{ name: 'next', args: { path: '{{last.matches.1.path}}', count: '{{last.count}}', nested: ['{{last.missing.x}}'] } }] },
    ]);
    const messages: ModelMessage[] = [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_0_0', name: 'probe', argumentsJson: '{}' }] },
      { role: 'tool', toolCallId: 'call_0_0', content: JSON.stringify({ count: 2, matches: [{ path: 'a.md' }, { path: 'b.md' }] }) },
    ];
    const response = await model.complete({ messages, tools: [] });
    expect(JSON.parse(response.toolCalls[0]?.argumentsJson ?? '')).toEqual({ path: 'b.md', count: 2, nested: [''] });
  });

  it('builds a report without facts when no tool result mentions the keywords', async () => {
    const model = single([{ calls: [{ name: 'probe' }] }, { say: '{{report}}' }]);
    const messages: ModelMessage[] = [
      { role: 'user', content: 'report on kubernetes' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_0_0', name: 'probe', argumentsJson: '{}' }] },
      { role: 'tool', toolCallId: 'call_0_0', content: JSON.stringify({ path: 'x.md', content: 'Nothing relevant here.' }) },
    ];
    const response = await model.complete({ messages, tools: [] });
    expect(response.content).toContain('# Report: Kubernetes');
    expect(response.content).toContain('## Key Findings\n\nNo facts were found in the workspace.');
    expect(response.content).toContain('## Harness Notes');
  });

  it('caps report facts at three per source and ten in all, labelling sources by path or tool name', async () => {
    const doc = Array.from({ length: 6 }, (_, i) => `Cache fact ${i}.`).join(' ');
    const messages: ModelMessage[] = [{ role: 'user', content: 'report on cache' }];
    for (let i = 0; i < 5; i += 1) {
      messages.push({ role: 'assistant', content: null, toolCalls: [{ id: `c${i}`, name: 'probe', argumentsJson: '{}' }] });
      const body = i === 0 ? { content: doc } : { path: `doc-${i}.md`, content: doc };
      messages.push({ role: 'tool', toolCallId: `c${i}`, content: JSON.stringify(body) });
    }
    const scripted = ScriptedModel.fromScenarios({
      scenarios: [{ name: 't', match: '.', steps: [...Array.from({ length: 5 }, () => ({ calls: [{ name: 'probe' }] })), { say: '{{report}}' }] }],
    });
    const response = await scripted.complete({ messages, tools: [] });
    const bullets = (response.content ?? '').split('\n').filter((line) => line.startsWith('- ['));
    expect(bullets).toHaveLength(10);
    expect(bullets[0]).toBe('- [probe] Cache fact 0.');
    expect(bullets.filter((b) => b.startsWith('- [doc-1.md]'))).toHaveLength(3);
    expect(bullets.some((b) => b.includes('Cache fact 3'))).toBe(false);
  });

  it('sends rawArguments verbatim for malformed-call scenarios', async () => {
    const model = single([{ calls: [{ name: 'weird', rawArguments: '{not json' }] }]);
    const response = await model.complete({ messages: [{ role: 'user', content: 'x' }], tools: [] });
    expect(response.toolCalls).toEqual([{ id: 'call_0_0', name: 'weird', argumentsJson: '{not json' }]);
  });

  it('throws when no scenario matches and there is no fallback', async () => {
    const model = ScriptedModel.fromScenarios({ scenarios: [{ name: 'only', match: '^deploy', steps: [{ say: 'ok' }] }] });
    await expect(model.complete({ messages: [{ role: 'user', content: 'report' }], tools: [] })).rejects.toThrow(
      /no scenario matches the task "report"/,
    );
  });
});

describe('ScriptedModel.fromSteps', () => {
  it('consumes steps by position, computes function steps from the messages, and records every request', async () => {
    const model = ScriptedModel.fromSteps([
      { calls: [{ name: 'workspace_search', args: { query: 'x' } }, { name: 'bad', rawArguments: null }] },
      (messages) => ({ content: `saw ${messages.filter((m) => m.role === 'tool').length} tool results` }),
    ]);
    const messages: ModelMessage[] = [{ role: 'user', content: 'go' }];
    const first = await model.complete({ messages, tools: TOOLS });
    expect(first.toolCalls).toEqual([
      { id: 'call_0_0', name: 'workspace_search', argumentsJson: '{"query":"x"}' },
      { id: 'call_0_1', name: 'bad', argumentsJson: null },
    ]);
    messages.push(
      { role: 'assistant', content: null, toolCalls: first.toolCalls },
      { role: 'tool', toolCallId: 'call_0_0', content: '{}' },
      { role: 'tool', toolCallId: 'call_0_1', content: 'ERROR: invalid arguments' },
    );
    const second = await model.complete({ messages, tools: TOOLS });
    expect(second).toMatchObject({ content: 'saw 2 tool results', toolCalls: [] });
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]?.messages).toHaveLength(4);
    expect(model.requests[0]?.tools).toEqual(TOOLS);

    messages.push({ role: 'assistant', content: second.content, toolCalls: [] });
    await expect(model.complete({ messages, tools: TOOLS })).rejects.toThrow(UnexpectedModelCallError);
    await expect(model.complete({ messages, tools: TOOLS })).rejects.toThrow(/unexpected model call at position 2 \(the script has 2 step/);
  });

  it('does not let a caller mutate what was recorded', async () => {
    const model = ScriptedModel.fromSteps([{ content: 'done' }]);
    const messages: ModelMessage[] = [{ role: 'user', content: 'go' }];
    await model.complete({ messages, tools: [] });
    messages.push({ role: 'user', content: 'later' });
    expect(model.requests[0]?.messages).toEqual([{ role: 'user', content: 'go' }]);
  });
});
