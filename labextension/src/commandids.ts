/**
 * The ids of the Sharing panel's commands.
 */
export namespace CommandIDs {
  /** Open the Share dialog of a resource (args: `id`, or the row under the context menu). */
  export const share = 'jupyter-share:share';
  /** Revoke every grant of a resource. */
  export const revokeAll = 'jupyter-share:revoke-all';
  /** Delete one of my resources. */
  export const remove = 'jupyter-share:delete';
  /** Remove my own grant of a resource shared with me. */
  export const leave = 'jupyter-share:leave';
  /** Download an image's captured environment (args: `format`: requirements or conda). */
  export const downloadEnvironment = 'jupyter-share:download-environment';
  /** Show a resource's details. */
  export const details = 'jupyter-share:details';
  /** Open the Share dialog of this container (`sessions/current`). */
  export const shareContainer = 'jupyter-share:share-this-container';
  /** Create an image that captures this container's environment. */
  export const createImageFromContainer =
    'jupyter-share:create-image-from-container';
  /** Open the panel at what others shared with me. */
  export const showSharedWithMe = 'jupyter-share:show-shared-with-me';
  /** The form for a new image. */
  export const createImage = 'jupyter-share:create-image';
  /** The form for a new formation. */
  export const createFormation = 'jupyter-share:create-formation';
  /** Open a container shared with me (under JupyterHub: its owner's server). */
  export const openContainer = 'jupyter-share:open-container';
  /** Read everything again. */
  export const refresh = 'jupyter-share:refresh';
  /** Build an environment and a kernel here from an image (args: `id`). */
  export const useImage = 'jupyter-share:use-image';
  /** Ask the owner of a resource shared with me for more (args: `id`). */
  export const askForMore = 'jupyter-share:ask-for-more';
  /** Launch a formation as a new server of mine (args: `id`). */
  export const launchFormation = 'jupyter-share:launch-formation';
  /** Stop a container this server launched (args: `id`). */
  export const stopContainer = 'jupyter-share:stop-container';
}
