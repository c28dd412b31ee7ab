/**
 * The shared badge of an owned row.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IGrantee } from '../api';
import { badgeTooltip } from '../model';

/**
 * The grey badge of a shared resource: how many grants, and who holds them
 * (as the list answer names them).
 */
export function SharedBadge(props: {
  count: number;
  grants: ReadonlyArray<IGrantee> | null | undefined;
  trans: TranslationBundle;
}): JSX.Element {
  const tooltip = badgeTooltip(props.count, props.grants, props.trans);
  return (
    <span
      className="jp-share-badge"
      title={tooltip}
      aria-label={tooltip}
      data-share-count={props.count}
    >
      <span className="jp-share-glyph" data-glyph="group" />
      <span className="jp-share-badge-count">{props.count}</span>
    </span>
  );
}
