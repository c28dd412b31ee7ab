/**
 * The presence helpers: what the row of a guest says and its tooltip.
 */
import { ago, IGuestPresence, openSummary, presenceTooltip } from '../presence';

function guest(extra: Partial<IGuestPresence> = {}): IGuestPresence {
  return {
    username: 'bob',
    permission: 'edit',
    in_now: true,
    signed_in_at: '2026-01-01T10:00:00.000Z',
    last_active_at: '2026-01-01T10:05:00.000Z',
    address: '10.0.0.7',
    sockets: {
      kernel: 1,
      terminal: 0,
      document: 0,
      events: 1,
      'language-server': 0,
      other: 0
    },
    kernels: ['0f1e2d3c-aaaa-bbbb-cccc-000000000000'],
    terminals: [],
    documents: ['analysis.ipynb'],
    ...extra
  };
}

describe('presence', () => {
  it('says what a guest has open', () => {
    expect(openSummary(guest())).toBe('1 kernel · 1 document');
    expect(openSummary(guest({ kernels: [], documents: [] }))).toBe(
      'nothing open'
    );
    expect(openSummary(guest({ terminals: ['1', '2'] }))).toBe(
      '1 kernel · 2 terminals · 1 document'
    );
  });

  it('tells since when, from where and each thing open in the tooltip', () => {
    const tooltip = presenceTooltip(guest());
    expect(tooltip).toContain('bob (edit)');
    expect(tooltip).toContain('from 10.0.0.7');
    expect(tooltip).toContain('Documents: analysis.ipynb');
    expect(tooltip).toContain('Kernels: 0f1e2d3c');
  });

  it('says how long ago', () => {
    const now = Date.parse('2026-01-01T10:10:00.000Z');
    expect(ago('2026-01-01T10:09:30.000Z', now)).toBe('just now');
    expect(ago('2026-01-01T10:05:00.000Z', now)).toBe('5 min ago');
    expect(ago('2026-01-01T07:10:00.000Z', now)).toBe('3 h ago');
  });
});
