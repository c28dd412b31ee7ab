import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { INotApplied, notAppliedLabel } from './launch';

/** Props of `NotAppliedList`. */
export interface INotAppliedListProps {
  items: ReadonlyArray<INotApplied>;
  trans: TranslationBundle;
}

/** What a launch on this machine did not apply, each with why. */
export function NotAppliedList(props: INotAppliedListProps): JSX.Element {
  const { items, trans } = props;
  return (
    <div className="jp-share-not-applied">
      <p>
        {trans.__(
          'A server on this machine cannot honour these fields of the formation; they were not applied:'
        )}
      </p>
      <ul>
        {items.map(item => (
          <li key={item.field} data-field={item.field}>
            <strong>{notAppliedLabel(item)}</strong>
            {': '}
            {item.reason}
          </li>
        ))}
      </ul>
    </div>
  );
}
