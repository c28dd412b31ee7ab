import { Event } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { ENVIRONMENT_SCHEMA_ID, IBuiltEnvironment } from './environments';

/** What the tracker asks the server (a part of `EnvironmentsAPI`). */
export interface IBuildSource {
  list(): Promise<{ items: IBuiltEnvironment[] }>;
  get(envId: string): Promise<IBuiltEnvironment>;
}

/** A step of a build in words, with its count while installing. */
export function stepText(
  env: Pick<IBuiltEnvironment, 'step' | 'done' | 'total'>,
  trans: TranslationBundle
): string {
  switch (env.step) {
    case 'preparing':
      return trans.__('preparing');
    case 'resolving':
      return trans.__('resolving');
    case 'downloading':
      return trans.__('downloading');
    case 'installing':
      return env.total > 0
        ? trans.__('installing %1/%2', env.done, env.total)
        : trans.__('installing');
    case 'registering':
      return trans.__('registering');
    default:
      return env.step;
  }
}

/** A build's steps in the order it takes them. */
const STEPS = [
  'preparing',
  'resolving',
  'downloading',
  'installing',
  'registering'
];

/** Whether `state` is older than `than` in the same build's progress. */
function isBehind(state: IBuiltEnvironment, than: IBuiltEnvironment): boolean {
  const step = STEPS.indexOf(state.step);
  const thanStep = STEPS.indexOf(than.step);
  if (step < 0 || thanStep < 0) {
    return false;
  }
  return step < thanStep || (step === thanStep && state.done < than.done);
}

/** The status bar's words for the builds running: "Building CARET (alice): installing 3/7". */
export function buildStatusText(
  builds: IBuiltEnvironment[],
  trans: TranslationBundle
): string {
  if (builds.length === 0) {
    return '';
  }
  const first = builds[0];
  const text = trans.__(
    'Building %1: %2',
    first.display_name,
    stepText(first, trans)
  );
  return builds.length > 1
    ? text + ' ' + trans.__('(+%1 more)', builds.length - 1)
    : text;
}

/**
 * The builds running in this container, for the status bar: followed on the
 * server's event stream, found at start by a GET (a build started before this
 * page, by another tab or by `jupyter share use`), and looked at again by a GET
 * while one runs, in case an event was missed. No DOM here.
 */
export class BuildTracker {
  constructor(
    private readonly _source: IBuildSource,
    private readonly _pollMs = 2000
  ) {}

  /** Emitted when a build starts, moves or ends. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The builds running now, oldest first. */
  get building(): IBuiltEnvironment[] {
    return [...this._builds.values()];
  }

  /** The last state seen of a build (running or ended), by id. */
  last(envId: string): IBuiltEnvironment | undefined {
    return this._last.get(envId);
  }

  /** Take a build's new state (an event carries part of it: merged). */
  update(env: Partial<IBuiltEnvironment> & { id: string }): void {
    const merged = { ...this._last.get(env.id), ...env } as IBuiltEnvironment;
    const before = this._builds.get(env.id);
    if (before && merged.state === 'building' && isBehind(merged, before)) {
      // A GET answered before an event that arrived first: older news.
      return;
    }
    this._last.set(env.id, merged);
    if (merged.state === 'building') {
      this._builds.set(env.id, merged);
      this._schedule();
    } else {
      this._builds.delete(env.id);
    }
    if (
      !before ||
      merged.state !== 'building' ||
      before.step !== merged.step ||
      before.done !== merged.done ||
      before.total !== merged.total
    ) {
      this._changed.emit();
    }
  }

  /** Follow builds on the server's event stream. */
  connect(events: Event.IManager): void {
    events.stream.connect(this._onEvent, this);
  }

  /** Look for the builds running now. */
  async refresh(): Promise<void> {
    const answer = await this._source.list();
    for (const env of answer.items) {
      if (env.state === 'building' || this._builds.has(env.id)) {
        this.update(env);
      }
    }
  }

  dispose(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  private _onEvent(_: Event.IManager, event: Event.Emission): void {
    if (event.schema_id === ENVIRONMENT_SCHEMA_ID && event.id) {
      this.update(event as unknown as IBuiltEnvironment);
    }
  }

  /** While a build runs, look at each again every `_pollMs`. */
  private _schedule(): void {
    if (this._timer !== null || this._disposed) {
      return;
    }
    this._timer = window.setTimeout(async () => {
      this._timer = null;
      for (const id of [...this._builds.keys()]) {
        try {
          this.update(await this._source.get(id));
        } catch {
          // Removed meanwhile (404): it runs no more.
          const gone = this._builds.get(id);
          if (gone) {
            this.update({ ...gone, state: 'removed' });
          }
        }
      }
      if (this._builds.size > 0) {
        this._schedule();
      }
    }, this._pollMs);
  }

  private _builds = new Map<string, IBuiltEnvironment>();
  private _last = new Map<string, IBuiltEnvironment>();
  private _changed = new Signal<this, void>(this);
  private _timer: number | null = null;
  private _disposed = false;
}
