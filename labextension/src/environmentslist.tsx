import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { stepText } from './buildtracker';
import { IBuiltEnvironment } from './environments';

/**
 * The environments built here from images, each with its state and a way to
 * its log and to remove it (kernelspec and environment together).
 */
export function EnvironmentsList(props: {
  environments: IBuiltEnvironment[];
  trans: TranslationBundle;
  onShowLog: (env: IBuiltEnvironment) => void;
  onRemove: (env: IBuiltEnvironment) => void;
}): JSX.Element {
  const { environments, trans, onShowLog, onRemove } = props;
  if (environments.length === 0) {
    return (
      <p className="jp-share-environments-empty">
        {trans.__(
          'No environment was built here from an image yet: right-click an image and choose "Use in this container…".'
        )}
      </p>
    );
  }
  const state = (env: IBuiltEnvironment): string => {
    switch (env.state) {
      case 'building':
        return trans.__('building: %1', stepText(env, trans));
      case 'ready':
        return trans.__('ready');
      case 'failed':
        return trans.__('failed: %1', env.message);
      case 'cancelled':
        return trans.__('cancelled');
      default:
        return env.state;
    }
  };
  return (
    <ul className="jp-share-environments">
      {environments.map(env => (
        <li
          key={env.id}
          className="jp-share-environment"
          data-share-environment-id={env.id}
          data-share-environment-state={env.state}
        >
          <span className="jp-share-environment-name">{env.display_name}</span>{' '}
          <span className="jp-share-environment-state">{state(env)}</span>{' '}
          <button
            type="button"
            className="jp-mod-styled jp-mod-reject"
            onClick={() => onShowLog(env)}
          >
            {trans.__('Show log')}
          </button>
          <button
            type="button"
            className="jp-mod-styled jp-mod-warn"
            title={trans.__('Remove the environment and its kernel')}
            onClick={() => onRemove(env)}
          >
            {trans.__('Remove')}
          </button>
        </li>
      ))}
    </ul>
  );
}
