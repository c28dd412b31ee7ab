/**
 * The status bar item of builds: its words, its progress bar, and the tracker
 * that follows builds on the event stream and by GETs.
 */
import * as React from 'react';

import { ReactWidget } from '@jupyterlab/apputils';
import { Event } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { BuildStatus } from '../buildstatus';
import { EnvironmentsList } from '../environmentslist';
import { BuildTracker, buildStatusText, IBuildSource } from '../buildtracker';
import { ENVIRONMENT_SCHEMA_ID, IBuiltEnvironment } from '../environments';

const trans = nullTranslator.load('jupyter_share');

/** Render an element as JupyterLab does (a ReactWidget in the page): its DOM. */
async function rendered(element: React.ReactElement): Promise<HTMLElement> {
  const widget = ReactWidget.create(element);
  Widget.attach(widget, document.body);
  widget.update();
  await new Promise(resolve => setTimeout(resolve, 50));
  // Left in the page (detaching unmounts it): its buttons still call back.
  return widget.node;
}

// The fields the item reads; the server sends the whole BuiltEnvironment.
function env(extra: Partial<IBuiltEnvironment> = {}): IBuiltEnvironment {
  return {
    id: 'img1-0123456789ab',
    image_id: 'img1',
    image_name: 'CARET',
    owner: 'alice',
    kernel_name: 'share-alice-caret-01234567',
    display_name: 'CARET (alice)',
    state: 'building',
    step: 'installing',
    done: 3,
    total: 7,
    message: 'installing 3/7',
    error: null,
    installer: 'pip',
    packages: 7,
    ...extra
  } as IBuiltEnvironment;
}

/** An event stream the tests emit on, as the server's. */
class FakeEvents {
  stream = new Signal<any, Event.Emission>(this);
  emit(data: Partial<IBuiltEnvironment>): void {
    this.stream.emit({ schema_id: ENVIRONMENT_SCHEMA_ID, ...data } as any);
  }
}

class FakeSource implements IBuildSource {
  items: IBuiltEnvironment[] = [];
  gets: string[] = [];
  async list() {
    return { items: this.items };
  }
  async get(id: string) {
    this.gets.push(id);
    const found = this.items.find(e => e.id === id);
    if (!found) {
      throw new Error('404');
    }
    return found;
  }
}

describe('the status bar item of builds', () => {
  it('says which build, its step and N/M', () => {
    expect(buildStatusText([env()], trans)).toBe(
      'Building CARET (alice): installing 3/7'
    );
    expect(buildStatusText([env({ step: 'resolving', total: 0 })], trans)).toBe(
      'Building CARET (alice): resolving'
    );
    expect(
      buildStatusText(
        [env(), env({ id: 'x', display_name: 'gap (bob)' })],
        trans
      )
    ).toBe('Building CARET (alice): installing 3/7 (+1 more)');
    expect(buildStatusText([], trans)).toBe('');
  });

  it('renders the words and a progress bar, nothing without a build', async () => {
    let shown: IBuiltEnvironment | null = null;
    const node = await rendered(
      React.createElement(BuildStatus, {
        builds: [env()],
        trans,
        onShowLog: e => (shown = e)
      })
    );
    expect(node.querySelector('[role="status"]')!.textContent).toBe(
      'Building CARET (alice): installing 3/7'
    );
    const bar = node.querySelector('progress') as HTMLProgressElement;
    // Installing 3 of 7: past resolving and downloading, short of registering.
    expect(Number(bar.getAttribute('value'))).toBeGreaterThan(0.3);
    expect(Number(bar.getAttribute('value'))).toBeLessThan(0.95);
    expect(shown).toBeNull();
    const empty = await rendered(
      React.createElement(BuildStatus, {
        builds: [],
        trans,
        onShowLog: () => undefined
      })
    );
    expect(empty.querySelector('.jp-share-build-status')).toBeNull();
  });
});

describe('BuildTracker', () => {
  it('follows a build through its phases on the event stream', () => {
    const events = new FakeEvents();
    const tracker = new BuildTracker(new FakeSource(), 60_000);
    tracker.connect(events as unknown as Event.IManager);
    let changes = 0;
    tracker.changed.connect(() => changes++);
    const { id } = env();
    events.emit({ ...env({ step: 'resolving', done: 0, total: 7 }) });
    expect(tracker.building.map(e => e.step)).toEqual(['resolving']);
    events.emit({
      id,
      state: 'building',
      step: 'installing',
      done: 3,
      total: 7
    });
    expect(buildStatusText(tracker.building, trans)).toBe(
      'Building CARET (alice): installing 3/7'
    );
    // Another schema is none of its business.
    events.stream.emit({ schema_id: 'other', id, state: 'ready' } as any);
    expect(tracker.building).toHaveLength(1);
    events.emit({ id, state: 'failed', message: 'no wheel of nowhere==1' });
    expect(tracker.building).toEqual([]);
    expect(tracker.last(id)!.message).toBe('no wheel of nowhere==1');
    expect(changes).toBe(3);
    tracker.dispose();
  });

  it('never goes back to older news (a GET answered before an event)', () => {
    const events = new FakeEvents();
    const tracker = new BuildTracker(new FakeSource(), 60_000);
    tracker.connect(events as unknown as Event.IManager);
    const { id } = env();
    const step = (step: IBuiltEnvironment['step'], done: number) =>
      events.emit({ id, state: 'building', step, done, total: 7 });
    step('installing', 5);
    step('installing', 3);
    expect(tracker.building[0].done).toBe(5);
    step('registering', 7);
    step('installing', 6);
    expect(tracker.building[0].step).toBe('registering');
    events.emit({ id, state: 'ready', step: 'done', done: 7, total: 7 });
    expect(tracker.building).toEqual([]);
    tracker.dispose();
  });

  it('finds builds already running and looks again by GET', async () => {
    jest.useFakeTimers();
    const source = new FakeSource();
    source.items = [env(), env({ id: 'done-0123456789ab', state: 'ready' })];
    const tracker = new BuildTracker(source, 1000);
    await tracker.refresh();
    expect(tracker.building.map(e => e.id)).toEqual([env().id]);
    source.items = [env({ state: 'ready', step: 'done', done: 7 })];
    jest.advanceTimersByTime(1000);
    jest.useRealTimers();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(source.gets).toEqual([env().id]);
    expect(tracker.building).toEqual([]);
    tracker.dispose();
  });
});

describe('the list of environments built here', () => {
  it('shows each with its state, its log and Remove', async () => {
    const logs: string[] = [];
    const removed: string[] = [];
    const node = await rendered(
      React.createElement(EnvironmentsList, {
        environments: [
          env(),
          env({
            id: 'gap-0123456789ab',
            display_name: 'gap (bob)',
            state: 'failed',
            message: 'no wheel of nowhere==1 for Python 3.12'
          })
        ],
        trans,
        onShowLog: e => logs.push(e.id),
        onRemove: e => removed.push(e.id)
      })
    );
    const items = node.querySelectorAll('li');
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain('CARET (alice)');
    expect(items[0].textContent).toContain('building: installing 3/7');
    expect(items[1].textContent).toContain(
      'failed: no wheel of nowhere==1 for Python 3.12'
    );
    (items[1].querySelectorAll('button')[0] as HTMLButtonElement).click();
    (items[0].querySelectorAll('button')[1] as HTMLButtonElement).click();
    expect(logs).toEqual(['gap-0123456789ab']);
    expect(removed).toEqual([env().id]);
  });

  it('says how to make one when there is none', async () => {
    const node = await rendered(
      React.createElement(EnvironmentsList, {
        environments: [],
        trans,
        onShowLog: () => undefined,
        onRemove: () => undefined
      })
    );
    expect(node.textContent).toContain('Use in this container…');
  });
});
