import * as React from 'react';

import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  Notification,
  ReactWidget,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { Event } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';

import { BuildLog } from './buildlog';
import { stepText } from './buildtracker';
import {
  ENVIRONMENT_SCHEMA_ID,
  EnvironmentsAPI,
  IBuiltEnvironment
} from './environments';
import { errorMessage } from './model';
import { UsePlanBody } from './useplan';

/** How far a build is, 0 to 1, for the notification's progress bar. */
export function buildProgress(env: IBuiltEnvironment): number {
  if (env.state === 'ready') {
    return 1;
  }
  const start: { [step: string]: number } = {
    preparing: 0.02,
    resolving: 0.1,
    downloading: 0.2,
    installing: 0.3,
    registering: 0.95,
    done: 1
  };
  const base = start[env.step] ?? 0;
  if (env.step === 'installing' && env.total > 0) {
    return base + (0.65 * Math.min(env.done, env.total)) / env.total;
  }
  return base;
}

/**
 * "Use in this container…": the plan, then the build, followed in a
 * notification with a progress bar, Cancel and Show log; once ready the new
 * kernel is in the launcher, and the notification opens a notebook on it.
 */
export class ImageUser {
  constructor(
    private readonly _app: JupyterFrontEnd,
    private readonly _api: EnvironmentsAPI,
    private readonly _trans: TranslationBundle
  ) {}

  /** Follow builds' progress on the server's event stream. */
  connect(events: Event.IManager): void {
    events.stream.connect((_: Event.IManager, event: Event.Emission) => {
      if (event.schema_id === ENVIRONMENT_SCHEMA_ID) {
        const env = event as unknown as IBuiltEnvironment;
        if (this._notes.has(env.id)) {
          this._show({ ...this._last.get(env.id)!, ...env });
        }
      }
    });
  }

  /** Ask, then build an environment from the image `imageId`. */
  async use(imageId: string): Promise<void> {
    const trans = this._trans;
    let plan;
    try {
      plan = await this._api.plan(imageId);
    } catch (reason) {
      await showErrorMessage(
        trans.__('Cannot use this image here'),
        errorMessage(reason)
      );
      return;
    }
    if (plan.environment?.state === 'ready') {
      this._show(plan.environment);
      return;
    }
    const buttons = plan.refusal
      ? [Dialog.cancelButton({ label: trans.__('Close') })]
      : [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Build the kernel') })
        ];
    const answer = await showDialog({
      title: trans.__('Use %1 in this container', plan.display_name),
      body: ReactWidget.create(<UsePlanBody plan={plan} trans={trans} />),
      buttons
    });
    if (!answer.button.accept || plan.refusal) {
      return;
    }
    try {
      this._show(await this._api.use(imageId));
    } catch (reason) {
      await showErrorMessage(
        trans.__('Could not start building %1', plan.display_name),
        errorMessage(reason)
      );
    }
  }

  /** Show (or update) the build's notification; poll while no event came. */
  private _show(env: IBuiltEnvironment): void {
    const trans = this._trans;
    this._last.set(env.id, env);
    const building = env.state === 'building';
    const options: Notification.IOptions<any> = {
      autoClose: false,
      // Kept in the notification's model; JupyterLab 4's toast does not draw it.
      progress: building ? buildProgress(env) : undefined,
      actions: this._actions(env)
    };
    const message =
      env.state === 'ready'
        ? trans.__(
            'Kernel "%1" is ready: it is in the launcher.',
            env.display_name
          )
        : env.state === 'failed'
          ? trans.__('%1 could not be built: %2', env.display_name, env.message)
          : env.state === 'cancelled'
            ? trans.__('Building %1 was cancelled.', env.display_name)
            : // JupyterLab's toasts do not draw `progress` (below): the
              // message says how far, in words and as a percentage.
              trans.__(
                '%1: %2 (%3%)',
                env.display_name,
                stepText(env, trans),
                Math.round(100 * buildProgress(env))
              );
    const type: Notification.TypeOptions =
      env.state === 'ready'
        ? 'success'
        : env.state === 'building'
          ? 'in-progress'
          : env.state === 'cancelled'
            ? 'info'
            : 'error';
    const id = this._notes.get(env.id);
    if (id && Notification.manager.has(id)) {
      Notification.update({ id, message, type, ...options });
    } else {
      this._notes.set(env.id, Notification.emit(message, type, options));
    }
    if (env.state === 'ready') {
      // The launcher lists kernelspecs: it shows the new kernel once they are read again.
      void this._app.serviceManager.kernelspecs.refreshSpecs();
    }
    if (building) {
      this._poll(env.id);
    } else {
      this._notes.delete(env.id);
    }
  }

  /** A fallback for the event stream: look again every second while building. */
  private _poll(envId: string): void {
    if (this._polling.has(envId)) {
      return;
    }
    this._polling.add(envId);
    window.setTimeout(async () => {
      this._polling.delete(envId);
      if (!this._notes.has(envId)) {
        return;
      }
      try {
        const env = await this._api.get(envId);
        if (
          env.state !== 'building' ||
          env.step !== this._last.get(envId)?.step ||
          env.done !== this._last.get(envId)?.done
        ) {
          this._show(env);
        } else {
          this._poll(envId);
        }
      } catch {
        this._poll(envId);
      }
    }, 1000);
  }

  private _actions(env: IBuiltEnvironment): Notification.IAction[] {
    const trans = this._trans;
    const actions: Notification.IAction[] = [];
    if (env.state === 'building') {
      actions.push({
        label: trans.__('Cancel'),
        caption: trans.__('Stop building and remove what was made'),
        callback: event => {
          event.preventDefault();
          this._api.cancel(env.id).then(
            done => this._show(done),
            reason =>
              showErrorMessage(
                trans.__('Could not cancel'),
                errorMessage(reason)
              )
          );
        }
      });
    }
    if (env.state === 'ready') {
      actions.push({
        label: trans.__('Open a notebook'),
        caption: trans.__('A new notebook on the kernel %1', env.display_name),
        displayType: 'accent',
        callback: () => {
          void this._app.commands.execute('notebook:create-new', {
            kernelName: env.kernel_name
          });
        }
      });
    }
    if (env.state !== 'cancelled') {
      actions.push({
        label: trans.__('Show log'),
        caption: trans.__('Every command and line of the build'),
        callback: event => {
          event.preventDefault();
          void this._showLog(env);
        }
      });
    }
    return actions;
  }

  private async _showLog(env: IBuiltEnvironment): Promise<void> {
    const trans = this._trans;
    let text: string;
    try {
      text = await this._api.log(env.id);
    } catch (reason) {
      text = errorMessage(reason);
    }
    await showDialog({
      title: trans.__('Build log of %1', env.display_name),
      body: ReactWidget.create(<BuildLog text={text} />),
      buttons: [Dialog.okButton({ label: trans.__('Close') })]
    });
  }

  private _notes = new Map<string, string>();
  private _last = new Map<string, IBuiltEnvironment>();
  private _polling = new Set<string>();
}
