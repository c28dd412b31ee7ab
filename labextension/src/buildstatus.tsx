import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { buildStatusText } from './buildtracker';
import { IBuiltEnvironment } from './environments';
import { buildProgress } from './useimage';

/**
 * The status bar item of the builds running here: the first one's step and a
 * progress bar; a click shows its log.
 */
export function BuildStatus(props: {
  builds: IBuiltEnvironment[];
  trans: TranslationBundle;
  onShowLog: (env: IBuiltEnvironment) => void;
}): JSX.Element | null {
  const { builds, trans, onShowLog } = props;
  if (builds.length === 0) {
    return null;
  }
  const first = builds[0];
  const text = buildStatusText(builds, trans);
  return (
    <button
      type="button"
      className="jp-share-build-status"
      title={trans.__('%1 — click to see its log', first.message || text)}
      onClick={() => onShowLog(first)}
    >
      <span role="status" className="jp-share-build-status-text">
        {text}
      </span>
      <progress
        className="jp-share-build-status-progress"
        max={1}
        value={buildProgress(first)}
        aria-label={trans.__('Progress of %1', first.display_name)}
      />
    </button>
  );
}
