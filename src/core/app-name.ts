// The application's name: APP_NAME and the admin console's setting share this rule, so a name set
// in the environment is one the console can show and save again. It goes into page titles and
// headings, and to authenticators as the relying party's name.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export const isValidAppName = (name: string): boolean => name.length >= 1 && name.length <= 50 && !CONTROL.test(name);
