// Admin console: copy buttons. Served as a file (the CSP forbids inline scripts). Without this
// script the buttons stay hidden and the values can still be selected and copied by hand.
const status = document.createElement('p');
status.className = 'visually-hidden';
status.setAttribute('role', 'status');
document.body.append(status);

for (const button of document.querySelectorAll('button[data-copy]')) {
  const target = document.getElementById(button.dataset.copy);
  if (!target || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(target.textContent.trim());
      status.textContent = 'Copied to the clipboard.';
      button.dataset.copied = 'true';
    } catch {
      status.textContent = 'Could not copy: select the text and copy it by hand.';
    }
  });
}
