/**
 * The Sharing panel's icons. Paths after Material Design Icons (Apache-2.0)
 * and JupyterLab's share icon; `jp-icon3` lets the theme colour them.
 */
import { LabIcon } from '@jupyterlab/ui-components';

import { Kind } from './api';

function svg(path: string): string {
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    `<path class="jp-icon3" fill="currentColor" d="${path}"/></svg>`
  );
}

/** The Sharing panel's tab. */
export const sharingIcon = new LabIcon({
  name: 'jupyter-share:sharing',
  svgstr: svg(
    'M18 2c-1.645 0-3 1.355-3 3 0 .191.022.377.057.559L7.922 9.72A2.97 2.97 0 0 0 6 9c-1.645 0-3 1.355-3 3s1.355 3 3 3c.732 0 1.399-.278 1.922-.72l7.135 4.16A3 3 0 0 0 15 19c0 1.645 1.355 3 3 3s3-1.355 3-3-1.355-3-3-3a2.97 2.97 0 0 0-1.922.723l-7.135-4.164C8.978 12.377 9 12.19 9 12s-.022-.377-.057-.559l7.135-4.162C16.601 7.722 17.268 8 18 8c1.645 0 3-1.355 3-3s-1.355-3-3-3m0 2c.564 0 1 .436 1 1s-.436 1-1 1-1-.436-1-1 .436-1 1-1M6 11c.564 0 1 .436 1 1s-.436 1-1 1-1-.436-1-1 .436-1 1-1m12 7c.564 0 1 .436 1 1s-.436 1-1 1-1-.436-1-1 .436-1 1-1'
  )
});

/** An image: stacked layers. */
export const imageKindIcon = new LabIcon({
  name: 'jupyter-share:image',
  svgstr: svg(
    'M11.99 18.54l-7.37-5.73L3 14.07l9 7 9-7-1.63-1.27-7.38 5.74zM12 16l7.36-5.73L21 9l-9-7-9 7 1.63 1.27L12 16z'
  )
});

/** A formation (a launch template): sliders. */
export const formationKindIcon = new LabIcon({
  name: 'jupyter-share:formation',
  svgstr: svg(
    'M3 17v2h6v-2H3zM3 5v2h10V5H3zm10 16v-2h8v-2h-8v-2h-2v6h2zM7 9v2H3v2h4v2h2V9H7zm14 4v-2H11v2h10zm-6-4h2V7h4V5h-4V3h-2v6z'
  )
});

/** A container (a running server): a screen. */
export const sessionKindIcon = new LabIcon({
  name: 'jupyter-share:session',
  svgstr: svg(
    'M20 3H4c-1.1 0-2 .9-2 2v11c0 1.1.9 2 2 2h3l-1 1v2h12v-2l-1-1h3c1.1 0 2-.9 2-2V5c0-1.1-.9-2-2-2zm0 13H4V5h16v11z'
  )
});

/** A user. */
export const userPrincipalIcon = new LabIcon({
  name: 'jupyter-share:user',
  svgstr: svg(
    'M12 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z'
  )
});

/** A group; also the shared badge's people. */
export const groupPrincipalIcon = new LabIcon({
  name: 'jupyter-share:group',
  svgstr: svg(
    'M16 11c1.66 0 2.99-1.34 2.99-3S17.66 5 16 5c-1.66 0-3 1.34-3 3s1.34 3 3 3zm-8 0c1.66 0 2.99-1.34 2.99-3S9.66 5 8 5C6.34 5 5 6.34 5 8s1.34 3 3 3zm0 2c-2.33 0-7 1.17-7 3.5V19h14v-2.5c0-2.33-4.67-3.5-7-3.5zm8 0c-.29 0-.62.02-.97.05 1.16.84 1.97 1.97 1.97 3.45V19h6v-2.5c0-2.33-4.67-3.5-7-3.5z'
  )
});

/** The icon of a kind of resource. */
export function kindIcon(kind: Kind): LabIcon {
  return {
    image: imageKindIcon,
    formation: formationKindIcon,
    session: sessionKindIcon
  }[kind];
}
