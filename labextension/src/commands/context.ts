/**
 * What every group of commands works with, and the row a command acts on.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { IResource, ShareAPI } from '../api';
import { Place, SharingModel } from '../model';
import { SharingPanel } from '../panel';
import { ImageUser } from '../useimage';

/** The parts the commands act on, shared by every group of commands. */
export interface ICommandContext {
  app: JupyterFrontEnd;
  api: ShareAPI;
  model: SharingModel;
  panel: SharingPanel;
  imageUser: ImageUser;
  trans: TranslationBundle;
  translator: ITranslator | null;
  /** The resource a row command acts on: its `id` arg, the row right-clicked, or the focused row. */
  target: (
    args: ReadonlyPartialJSONObject
  ) => { resource: IResource; place: Place } | undefined;
  /** Read everything again; failures show in the panel's banner. */
  refreshSoon: () => Promise<void>;
}

/** The context of the commands of this panel and model. */
export function commandContext(
  parts: Omit<ICommandContext, 'target' | 'refreshSoon'>
): ICommandContext {
  const { app, model, panel } = parts;
  const target = (
    args: any
  ): { resource: IResource; place: Place } | undefined => {
    let id = args.id as string | undefined;
    if (!id) {
      const node = app.contextMenuHitTest(
        n => n.dataset.resourceId !== undefined
      );
      id = node?.dataset.resourceId ?? panel.focusedResourceId() ?? undefined;
    }
    return id ? model.find(id) : undefined;
  };

  const refreshSoon = () => {
    return model.refresh().catch(() => undefined);
  };
  return { ...parts, target, refreshSoon };
}
