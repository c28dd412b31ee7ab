import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { IUsePlan } from './environments';

/** The body of "Use in this container…": what will be built, before it is. */
export function UsePlanBody(props: {
  plan: IUsePlan;
  trans: TranslationBundle;
}): JSX.Element {
  const { plan, trans } = props;
  return (
    <div className="jp-share-use-plan">
      <p>
        {trans.__(
          'A kernel "%1" will be made in this container: %2 pinned packages, installed with %3.',
          plan.display_name,
          plan.packages,
          plan.installer
        )}
      </p>
      <p
        className={
          plan.python.matches ? undefined : 'jp-share-use-plan-warning'
        }
      >
        {plan.python.captured
          ? trans.__(
              'Captured with Python %1; this container uses Python %2.',
              plan.python.captured,
              plan.python.used
            )
          : trans.__('This container uses Python %1.', plan.python.used)}
        {plan.python.matches
          ? ''
          : ' ' +
            trans.__('Some pinned versions may have no wheel for this Python.')}
      </p>
      {plan.conda ? <p>{plan.conda}</p> : null}
      {plan.refusal ? (
        <p className="jp-share-use-plan-refusal" role="alert">
          {plan.refusal}
        </p>
      ) : null}
    </div>
  );
}
