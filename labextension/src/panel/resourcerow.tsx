/**
 * One row of the Sharing panel: a resource, its badge or its access, and
 * the data attributes the context menu's commands select by.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { IResource } from '../api';
import { LaunchButton } from '../launchbutton';
import {
  badgeTooltip,
  canManage,
  expiryLabel,
  kindLabel,
  Place,
  SharingModel
} from '../model';
import { nextPermission } from '../requests';
import { StopButton } from '../stopbutton';
import { SharedBadge } from './sharedbadge';
import { specSummary, stoppedTitle } from './words';

interface IResourceRowProps {
  model: SharingModel;
  trans: TranslationBundle;
  resource: IResource;
  place: Place;
  current: boolean;
  tabbable: boolean;
  onActivate: (resource: IResource) => void;
  onFocusRow: (id: string) => void;
  /** Ask the owner for more (rows shared with me, below manage). */
  onAsk?: (resource: IResource) => void;
  commands: CommandRegistry;
}

/** One resource. Rendered again only when its resource or flags change. */
// eslint-disable-next-line prefer-arrow-callback -- a named function names the row in React's tools
export const ResourceRow = React.memo(function ResourceRow(
  props: IResourceRowProps
): JSX.Element {
  const { resource, place, current, tabbable, trans } = props;
  const badged = place === 'owned' && resource.shared;
  // Who holds access comes with the list (no request per hover).
  const grants = badged ? resource.grantees : undefined;
  const summary = place === 'owned' ? specSummary(resource, trans) : '';
  const stopped = stoppedTitle(resource, trans);
  const nameTitle = [resource.name, resource.description, summary]
    .filter(Boolean)
    .join('\n');
  const kind = kindLabel(resource.kind, trans);
  const label =
    place === 'owned'
      ? badged
        ? trans.__(
            '%1, %2, %3',
            resource.name,
            kind,
            badgeTooltip(resource.share_count ?? 0, grants, trans)
          )
        : trans.__('%1, %2', resource.name, kind)
      : trans.__(
          '%1, %2 from %3, %4, %5',
          resource.name,
          kind,
          resource.owner,
          resource.access,
          expiryLabel(resource.expires_at, trans)
        );
  return (
    <li
      className={`jp-share-row${current ? ' jp-mod-current' : ''}`}
      role="option"
      aria-selected={tabbable}
      aria-label={label}
      tabIndex={tabbable ? 0 : -1}
      data-resource-id={resource.id}
      data-resource-kind={resource.kind}
      data-share-place={place}
      data-share-access={resource.access}
      data-share-manage={canManage(resource.access) ? 'true' : 'false'}
      data-share-shared={resource.shared ? 'true' : 'false'}
      data-share-state={stopped ? 'stopped' : undefined}
      data-share-environment={
        resource.kind === 'image' && resource.environment ? 'true' : 'false'
      }
      onFocus={() => props.onFocusRow(resource.id)}
      onDoubleClick={() => props.onActivate(resource)}
    >
      <span
        className="jp-share-row-icon jp-share-glyph"
        data-glyph={resource.kind}
        title={kind}
      />
      <span className="jp-share-row-main">
        <span className="jp-share-row-line">
          <span className="jp-share-row-name" title={nameTitle}>
            {resource.name}
          </span>
          {stopped && (
            <span className="jp-share-state" title={stopped}>
              {trans.__('stopped')}
            </span>
          )}
          {badged && (
            <SharedBadge
              count={resource.share_count ?? 0}
              grants={grants}
              trans={trans}
            />
          )}
          {place === 'shared' && (
            <span
              className="jp-share-permission"
              data-permission={resource.access}
              title={trans.__('Your access: %1', resource.access)}
            >
              {resource.access}
            </span>
          )}
          {place === 'shared' &&
            props.onAsk &&
            nextPermission(resource.access) && (
              <button
                type="button"
                className="jp-share-ask-row"
                tabIndex={-1}
                title={trans.__(
                  'Ask %1 for %2',
                  resource.owner,
                  nextPermission(resource.access)
                )}
                onClick={event => {
                  event.stopPropagation();
                  props.onAsk?.(resource);
                }}
              >
                {trans.__('Ask for %1', nextPermission(resource.access))}
              </button>
            )}
          <LaunchButton
            resource={resource}
            commands={props.commands}
            trans={trans}
          />
          <StopButton
            resource={resource}
            commands={props.commands}
            trans={trans}
          />
        </span>
        {place === 'shared' ? (
          <span className="jp-share-row-detail">
            {trans.__('from')}{' '}
            <span className="jp-share-row-owner">{resource.owner}</span>
            {' · '}
            <span className="jp-share-row-expiry">
              {expiryLabel(resource.expires_at, trans)}
            </span>
          </span>
        ) : summary || current ? (
          <span className="jp-share-row-detail">
            {current && (
              <span className="jp-share-row-note">
                {trans.__('this container')}
              </span>
            )}
            {current && summary ? ' · ' : ''}
            {summary}
          </span>
        ) : null}
      </span>
    </li>
  );
});
