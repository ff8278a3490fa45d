// The edge's own minimal pages, used when the site has no 404.html and for errors no site page
// covers. Fixed text only: nothing from the request is echoed back.
import { html } from '../web/html.ts';

const MESSAGES: Readonly<Record<number, { title: string; message: string }>> = {
  400: { title: 'Bad request', message: 'This address cannot be served.' },
  404: { title: 'Not found', message: 'There is no page at this address.' },
  405: { title: 'Method not allowed', message: 'Only GET and HEAD are supported here.' },
  500: { title: 'Server error', message: 'Something went wrong on our side. Please try again.' },
  503: { title: 'Try again', message: 'This file is being updated. Please try again in a moment.' },
};

export function builtInPage(status: number): string {
  const { title, message } = MESSAGES[status] ?? { title: 'Error', message: 'The request could not be completed.' };
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${status} ${title}</title></head><body><h1>${title}</h1><p>${message}</p></body></html>\n`.value;
}
