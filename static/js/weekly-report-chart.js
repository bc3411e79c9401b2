// Admin → Weekly report: commission by category per week (stacked) and the funnel per category,
// drawn from the page's JSON data block (a file of its own: the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  const data = document.getElementById("weekly-report-data");
  if (!data || typeof Chart === "undefined") { return; }
  const report = JSON.parse(data.textContent);
  const weeks = report.weeks.slice().reverse();  // oldest first, left to right
  const categories = [...new Set(report.revenue_by_category.map(r => r.category))].sort();
  const commission = document.getElementById("commission-chart");
  if (commission) {
    new Chart(commission, {
      type: "bar",
      data: {
        labels: weeks.map(w => w.label),
        datasets: categories.map(category => ({
          label: category,
          data: weeks.map(w => {
            const row = report.revenue_by_category.find(r => r.week === w.index && r.category === category);
            return row ? Number(row.commission_usd) : 0;
          }),
        })),
      },
      options: {
        responsive: true,
        scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, title: {display: true, text: "Commission (USD)"}}},
      },
    });
  }
  const funnel = document.getElementById("funnel-chart");
  if (funnel) {
    const steps = [["matches", "Matches"], ["introductions", "Introductions"], ["accepted", "Accepted"], ["engagements", "Engagements"], ["completed", "Completed"]];
    new Chart(funnel, {
      type: "bar",
      data: {
        labels: report.funnel_by_category.map(r => r.category),
        datasets: steps.map(([key, label]) => ({label: label, data: report.funnel_by_category.map(r => r[key])})),
      },
      options: {responsive: true, scales: {y: {beginAtZero: true, title: {display: true, text: "Matches"}}}},
    });
  }
})();
