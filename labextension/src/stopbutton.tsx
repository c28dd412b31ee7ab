import * as React from 'react';

import { CommandRegistry } from '@lumino/commands';
import { TranslationBundle } from '@jupyterlab/translation';

import { IResource } from './api';
import { CommandIDs } from './commandids';
import { isLaunchedAndRunning } from './launch';

/** Props of `StopButton`. */
export interface IStopButtonProps {
  resource: IResource;
  commands: CommandRegistry;
  trans: TranslationBundle;
}

/** "Stop" on the row of a running container launched from a formation. */
export function StopButton(props: IStopButtonProps): JSX.Element | null {
  const { resource, commands, trans } = props;
  if (!isLaunchedAndRunning(resource)) {
    return null;
  }
  return (
    <button
      type="button"
      className="jp-share-stop-row"
      tabIndex={-1}
      title={trans.__('Stop %1', resource.name)}
      onClick={event => {
        event.stopPropagation();
        void commands.execute(CommandIDs.stopContainer, { id: resource.id });
      }}
    >
      {trans.__('Stop')}
    </button>
  );
}
