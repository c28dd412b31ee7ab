/**
 * "Who has access" in the Share dialog: the owner, then one row per grant.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IGrant, IResource, Permission } from '../api';
import { userPrincipalIcon } from '../icons';
import { GrantRow } from './grantrow';

export function AccessList(props: {
  resource: IResource;
  /** The grants; null while they load. */
  grants: ReadonlyArray<IGrant> | null;
  busy: boolean;
  onChange: (grant: IGrant, permission: Permission) => void;
  onRevoke: (grant: IGrant, rekey: boolean) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { resource, grants, busy, trans } = props;
  return (
    <>
      <h3 className="jp-share-access-title">{trans.__('Who has access')}</h3>
      <ul className="jp-share-access" aria-label={trans.__('Who has access')}>
        <li
          className="jp-share-access-row"
          data-principal={`user:${resource.owner}`}
        >
          <userPrincipalIcon.react tag="span" className="jp-share-row-icon" />
          <span className="jp-share-access-name">{resource.owner}</span>
          <span className="jp-share-access-owner">{trans.__('owner')}</span>
        </li>
        {grants === null ? (
          <li className="jp-share-access-row jp-share-muted">
            {trans.__('Loading…')}
          </li>
        ) : (
          grants.map(grant => (
            <GrantRow
              key={grant.principal}
              grant={grant}
              trans={trans}
              busy={busy}
              onChange={next => props.onChange(grant, next)}
              onRevoke={rekey => props.onRevoke(grant, rekey)}
              offerRekey={
                resource.kind === 'session' && grant.permission !== 'view'
              }
            />
          ))
        )}
      </ul>
      {grants !== null && grants.length === 0 && (
        <p className="jp-share-muted jp-share-access-empty">
          {trans.__('Not shared with anyone yet.')}
        </p>
      )}
    </>
  );
}
