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
        {label: "Spent and burned", data: days.map(d => d.burned)},
        {label: "Redeemed", data: days.map(d => d.redeemed)},
      ],
    },
    options: {responsive: true, scales: {y: {beginAtZero: true, title: {display: true, text: "POT"}}}},
  });
})();
