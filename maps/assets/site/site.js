/* envquality public site: language switch (zh/en, remembered) and the data's age. No network use. */
(function () {
  var KEY = "envquality-lang";
  function wanted() {
    var q = null;
    try { q = new URLSearchParams(window.location.search).get("lang"); } catch (e) { q = null; }
    if (q === "en" || q === "zh") { return q; }
    try { return window.localStorage.getItem(KEY) || "zh"; } catch (e) { return "zh"; }
  }
  function apply(lang) {
    var root = document.documentElement;
    root.setAttribute("data-lang", lang);
    root.lang = lang === "en" ? "en" : "zh-CN";
    var b = document.getElementById("eq-lang");
    if (b) {
      b.textContent = lang === "en" ? "中文" : "English";
      b.setAttribute("aria-label", lang === "en" ? "切换到中文" : "Switch to English");
    }
  }
  window.eqSetLang = function (lang) {
    try { window.localStorage.setItem(KEY, lang); } catch (e) { /* private mode: not remembered */ }
    apply(lang);
  };
  function age() {
    var el = document.getElementById("eq-age");
    if (!el) { return; }
    var end = Date.parse(el.getAttribute("data-end"));
    if (isNaN(end)) { return; }
    var h = Math.max(0, Math.round((Date.now() - end) / 3600000));
    var zh = h < 48 ? h + " 小时前" : Math.round(h / 24) + " 天前";
    var en = h < 48 ? h + " h ago" : Math.round(h / 24) + " days ago";
    el.innerHTML = '<span lang="zh-CN">' + zh + '</span><span lang="en">' + en + '</span>';
  }
  apply(wanted());
  document.addEventListener("DOMContentLoaded", function () {
    apply(wanted());
    age();
    var b = document.getElementById("eq-lang");
    if (b) {
      b.addEventListener("click", function () {
        window.eqSetLang(document.documentElement.getAttribute("data-lang") === "en" ? "zh" : "en");
      });
    }
    if (window.innerWidth < 600) {
      var d = document.querySelectorAll("details.eq-collapse-small");
      for (var i = 0; i < d.length; i++) { d[i].open = false; }
    }
  });
  // on a phone the layer list folds into its button (it would cover the search box and zoom)
  window.addEventListener("load", function () {
    if (window.innerWidth >= 600) { return; }
    var cs = document.querySelectorAll(".leaflet-control-layers");
    Array.prototype.forEach.call(cs, function (c) {
      var open = "leaflet-control-layers-expanded";
      c.classList.remove(open);
      c.addEventListener("click", function () { c.classList.add(open); });
      c.addEventListener("focusin", function () { c.classList.add(open); });
      c.addEventListener("mouseleave", function () { c.classList.remove(open); });
      document.addEventListener("click", function (e) { if (!c.contains(e.target)) { c.classList.remove(open); } });
    });
  });
})();
