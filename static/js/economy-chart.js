// Admin → POT economy: the daily bar chart, drawn from the page's JSON data block
// (a file of its own: the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  const data = document.getElementById("economy-daily");
  const canvas = document.getElementById("daily-chart");
  if (!data || !canvas || typeof Chart === "undefined") { return; }
  const days = JSON.parse(data.textContent);
  const circulation = document.getElementById("circulation-chart");
  if (circulation) {
    new Chart(circulation, {
      type: "line",
      data: {labels: days.map(d => d.day), datasets: [{label: "POT in circulation", data: days.map(d => d.circulation), fill: true}]},
      options: {responsive: true, scales: {y: {beginAtZero: true, title: {display: true, text: "POT"}}}},
    });
  }
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: days.map(d => d.day),
      datasets: [
        {label: "Earned", data: days.map(d => d.earned)},
        {label: "Burned", data: days.map(d => d.burned)},
        {label: "Redeemed", data: days.map(d => d.redeemed)},
      ],
    },
    options: {responsive: true, scales: {y: {beginAtZero: true, title: {display: true, text: "POT"}}}},
  });
})();

// The weekly charts: flows, participation, and earning sources and spending patterns stacked by reason.
(function () {
  "use strict";
  const data = document.getElementById("economy-weekly");
  if (!data || typeof Chart === "undefined") { return; }
  const weekly = JSON.parse(data.textContent);
  const labels = weekly.weeks.map(w => w.week);
  const pot = {y: {beginAtZero: true, title: {display: true, text: "POT"}}};
  const draw = (id, config) => { const canvas = document.getElementById(id); if (canvas) { new Chart(canvas, config); } };
  draw("weekly-flows-chart", {
    type: "bar",
    data: {
      labels: labels,
      datasets: [
        {label: "Earned", data: weekly.weeks.map(w => w.earned)},
        {label: "Burned", data: weekly.weeks.map(w => w.burned)},
        {label: "Redeemed", data: weekly.weeks.map(w => w.redeemed)},
      ],
    },
    options: {responsive: true, scales: pot},
  });
  draw("participation-chart", {
    type: "line",
    data: {labels: labels, datasets: [{label: "Users holding POT (%)", data: weekly.weeks.map(w => Number(w.participation_rate) * 100)}]},
    options: {responsive: true, scales: {y: {beginAtZero: true, suggestedMax: 100, title: {display: true, text: "% of marketplace users"}}}},
  });
  const stacked = {responsive: true, scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, title: {display: true, text: "POT"}}}};
  const byReason = rows => rows.map(row => ({label: row.label, data: row.pot}));
  draw("weekly-earning-chart", {type: "bar", data: {labels: labels, datasets: byReason(weekly.earning)}, options: stacked});
  draw("weekly-spending-chart", {type: "bar", data: {labels: labels, datasets: byReason(weekly.spending)}, options: stacked});
})();
