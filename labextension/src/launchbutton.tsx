import * as React from 'react';

import { CommandRegistry } from '@lumino/commands';
import { TranslationBundle } from '@jupyterlab/translation';

import { IResource } from './api';
import { CommandIDs } from './commandids';

/** Props of `LaunchButton`. */
export interface ILaunchButtonProps {
  resource: IResource;
  commands: CommandRegistry;
  trans: TranslationBundle;
}

/** "Launch" on a formation's row: a new server of mine from it. */
export function LaunchButton(props: ILaunchButtonProps): JSX.Element | null {
  const { resource, commands, trans } = props;
  if (resource.kind !== 'formation') {
    return null;
  }
  return (
    <button
      type="button"
      className="jp-share-launch-row"
      tabIndex={-1}
      title={trans.__(
        'Start a new Jupyter server of yours from %1',
        resource.name
      )}
      onClick={event => {
        event.stopPropagation();
        void commands.execute(CommandIDs.launchFormation, { id: resource.id });
      }}
    >
      {trans.__('Launch')}
    </button>
  );
}
