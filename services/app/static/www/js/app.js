// www.example.test/js/app.js — the page's script (the lab's browser fetches it, it does not run it)
document.documentElement.dataset.loaded = 'yes';
