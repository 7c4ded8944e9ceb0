// cdn.example.test/js/analytics.js — a third-party style script, from another origin
window.labAnalytics = { page: location.pathname };
