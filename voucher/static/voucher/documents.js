/* The progress page of a document (templates/documents/progress.html): asks the job's status
   every two seconds and, once it is done, opens the download; a failure is shown in place.
   Without JavaScript the page's meta refresh does the same. No inline script: CSP forbids it. */
(function () {
  var box = document.getElementById("document-job");
  if (!box || !window.fetch) return;
  var state = box.getAttribute("data-state");
  if (state !== "queued" && state !== "running") return;
  // JavaScript polls: the meta refresh would reload the page under it
  document.querySelectorAll('meta[http-equiv="refresh"]').forEach(function (m) { m.remove(); });
  var said = document.getElementById("document-job-state");
  var timer = null;
  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (job) {
        box.setAttribute("data-state", job.state);
        if (job.state === "done") {
          var progress = document.getElementById("document-job-progress");
          if (progress) { progress.max = 1; progress.value = 1; }
          if (said) said.textContent = box.getAttribute("data-done-text") || said.textContent;
          window.location.assign(job.download);
          return;
        }
        if (job.state === "failed") {
          if (said) { said.textContent = job.error; said.setAttribute("role", "alert"); said.className = "msg msg-error"; }
          var progress2 = document.getElementById("document-job-progress");
          if (progress2) progress2.remove();
          return;
        }
        if (said) said.lastChild.textContent = " " + job.label + "……";
        timer = setTimeout(poll, 2000);
      })
      .catch(function () { timer = setTimeout(poll, 5000); });
  }
  timer = setTimeout(poll, 1000);
})();
