/**
 * A resource's details: what it is, its whole spec and its history.
 */
import { Dialog } from '@jupyterlab/apputils';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IResource, ShareAPI } from '../api';
import { HistoryView } from '../history';
import { expiryLabel, kindLabel, NULL_TRANS } from '../model';

function Details(props: {
  resource: IResource;
  api?: ShareAPI;
  trans?: TranslationBundle;
}): JSX.Element {
  const { api } = props;
  const trans = props.trans ?? NULL_TRANS;
  // A list carries the spec without the captured environment: read it all.
  const [resource, setResource] = React.useState(props.resource);
  React.useEffect(() => {
    if (api) {
      api.get(props.resource.kind, props.resource.id).then(
        full => setResource(full),
        () => undefined
      );
    }
  }, [api, props.resource.kind, props.resource.id]);
  const rows: [string, string][] = [
    [trans.__('Kind'), kindLabel(resource.kind, trans)],
    [trans.__('Owner'), resource.owner],
    [trans.__('Your access'), resource.access],
    [trans.__('Created'), new Date(resource.created_at).toLocaleString()],
    [trans.__('Changed'), new Date(resource.updated_at).toLocaleString()]
  ];
  if (resource.access !== 'owner') {
    rows.push([trans.__('Expires'), expiryLabel(resource.expires_at, trans)]);
  }
  if (resource.description) {
    rows.push([trans.__('Description'), resource.description]);
  }
  return (
    <div className="jp-share-details">
      <dl>
        {rows.map(([term, value]) => (
          <React.Fragment key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </React.Fragment>
        ))}
      </dl>
      <h3 className="jp-share-access-title">{trans.__('Specification')}</h3>
      <pre className="jp-share-spec">
        {JSON.stringify(resource.spec, null, 2)}
      </pre>
      {api && props.trans && (
        <HistoryView api={api} resource={props.resource} trans={trans} />
      )}
    </div>
  );
}

/** The details dialog's title: "Image “CARET”". */
function detailsTitle(resource: IResource, trans: TranslationBundle): string {
  switch (resource.kind) {
    case 'image':
      return trans.__('Image “%1”', resource.name);
    case 'formation':
      return trans.__('Formation “%1”', resource.name);
    case 'session':
      return trans.__('Container “%1”', resource.name);
  }
}

/**
 * Show a resource's details, its whole spec and (given the API) its history.
 */
export async function showDetailsDialog(
  resource: IResource,
  api?: ShareAPI,
  translator?: ITranslator
): Promise<void> {
  const trans = (translator ?? nullTranslator).load('jupyter_share');
  const dialog = new Dialog({
    title: detailsTitle(resource, trans),
    body: ReactWidget.create(
      <Details resource={resource} api={api} trans={trans} />
    ),
    buttons: [Dialog.okButton({ label: trans.__('Close') })],
    hasClose: true
  });
  dialog.addClass('jp-share-dialog');
  await dialog.launch();
  dialog.dispose();
}
