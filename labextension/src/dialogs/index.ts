/**
 * The dialogs, one a file: Share (sharedialog, shareform and its parts), the
 * forms that create images and formations, and a resource's details. All are
 * JupyterLab `Dialog`s whose bodies are React.
 */
export { showCreateFormationDialog } from './createformation';
export { showCreateImageDialog } from './createimage';
export { showDetailsDialog } from './details';
export { showShareDialog } from './sharedialog';
export { containerTrust, describe, permissionHelp } from './words';
