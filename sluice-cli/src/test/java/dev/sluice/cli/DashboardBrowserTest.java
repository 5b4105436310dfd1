package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ActorHandle;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import dev.sluice.TaskOptions;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The head's dashboard in a real browser: Debian's headless Chromium, driven by Selenium through
 * Debian's chromedriver (never a downloaded one), opens the dashboard of a real two-node cluster
 * started with {@code sluice start} while a driver in this JVM runs a slow stream, and follows the
 * log of an actor's worker while the actor logs through SLF4J. {@code .ci/run} installs chromium
 * and chromium-driver; without them this test fails and says so. Screenshots go to {@code
 * target/dashboard-*.png}.
 */
class DashboardBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final String SMALL_STORE = "67108864";
  private static final Duration UI_WAIT = Duration.ofSeconds(90);

  private Path root;
  private Path browserProfile;
  private ChromeDriver browser;
  private ObjectRefGenerator<Integer> stream;
  private Thread consumer;
  private final AtomicBoolean stopConsuming = new AtomicBoolean();
  private final AtomicLong consumed = new AtomicLong();

  /** A generator that yields {@code n} numbers, {@code pauseMillis} apart: a stream to watch. */
  static Iterator<Integer> slowNumbers(int n, long pauseMillis) {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < n;
      }

      @Override
      public Integer next() {
        if (next >= n) {
          throw new NoSuchElementException();
        }
        try {
          Thread.sleep(pauseMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
        return next++;
      }
    };
  }

  /** An actor that logs what it is told through SLF4J, in its worker's log file. */
  public static final class LogWriter {
    private static final Logger log = LoggerFactory.getLogger(LogWriter.class);

    public LogWriter() {}

    /** The id of the worker this actor lives in. */
    public String workerId() {
      return Sluice.runtimeContext().workerId().hex();
    }

    /** Logs {@code line} at INFO. */
    public boolean log(String line) {
      log.info(line);
      return true;
    }
  }

  @BeforeEach
  void newRoot() throws IOException {
    root =
        Path.of("target", "cli-test-sessions", "dashboard_" + System.currentTimeMillis())
            .toAbsolutePath();
    browserProfile = Files.createDirectories(root.resolveSibling(root.getFileName() + "-chromium"));
  }

  @AfterEach
  void stopEverything() throws Exception {
    stopConsuming.set(true);
    if (browser != null) {
      browser.quit();
    }
    if (stream != null) {
      try {
        Sluice.cancel(stream);
      } catch (RuntimeException e) {
        // the stream ended already
      }
    }
    if (consumer != null) {
      consumer.interrupt();
      consumer.join(Duration.ofSeconds(30));
    }
    Sluice.shutdown();
    CliRun.of(root, "stop");
    for (ProcessHandle p : SessionProcesses.under(root)) {
      p.destroyForcibly();
    }
    deleteTree(browserProfile);
  }

  @Test
  @Timeout(300)
  void streamsViewShowsALiveStreamOfATwoNodeClusterAndNoTokenIsRefused() throws Exception {
    assertThat(CHROMIUM)
        .as(
            "Debian's chromium must be installed for this test (apt-get install chromium"
                + " chromium-driver; .ci/run does it)")
        .isExecutable();
    assertThat(CHROMEDRIVER)
        .as("Debian's chromium-driver must be installed (apt-get install chromium-driver)")
        .isExecutable();

    CliRun head =
        CliRun.of(
            root,
            "start",
            "--head",
            "--port",
            "0",
            "--dashboard-port",
            "0",
            "--num-cpus",
            "1",
            "--num-workers",
            "1",
            "--object-store-bytes",
            SMALL_STORE);
    assertThat(head.code()).as(head.toString()).isZero();
    String control = printedValue(head, "  control service: ");
    // Rule: sluice start prints the dashboard's address with the token to open it once.
    String dashboardWithToken = printedValue(head, "  dashboard:       ");
    assertThat(dashboardWithToken).startsWith("http://127.0.0.1:").contains("/?token=");
    String dashboard = dashboardWithToken.substring(0, dashboardWithToken.indexOf('?'));

    CliRun node =
        CliRun.of(
            root,
            "start",
            "--address",
            control,
            "--num-cpus",
            "2",
            "--num-workers",
            "1",
            "--object-store-bytes",
            SMALL_STORE);
    assertThat(node.code()).as(node.toString()).isZero();

    // Rule: without the token the dashboard refuses every page (401), to scripts and browsers.
    try (HttpClient http = HttpClient.newHttpClient()) {
      for (String path : List.of("", "api/events", "api/snapshot", "static/dashboard.js")) {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(dashboard + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET /" + path + " without the token").isEqualTo(401);
      }
    }
    browser = startBrowser();
    browser.get(dashboard + "#streams");
    assertThat(browser.findElement(By.tagName("body")).getText()).contains("401: token required");
    assertThat(browser.findElements(By.id("streams-table"))).isEmpty();

    // With the token, once: the cookie carries the session from then on.
    browser.get(dashboardWithToken);
    assertThat(browser.getCurrentUrl()).doesNotContain("token=");
    WebDriverWait wait = new WebDriverWait(browser, UI_WAIT);
    wait.until(
        b ->
            b.findElements(By.cssSelector("#nodes-table tbody tr")).stream()
                    .filter(r -> r.getText().contains("ALIVE"))
                    .count()
                == 2);
    screenshot("overview");

    Sluice.init(SluiceConfig.builder().address(control).sessionRoot(root).build());
    stream =
        Sluice.generator(DashboardBrowserTest::slowNumbers, 2_000, 40L)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(16).build())
            .remote();
    consumer = Thread.ofPlatform().name("dashboard-test-consumer").start(this::consumeSlowly);

    browser.findElement(By.cssSelector("nav a[data-view=streams]")).click();
    // Rule: the streams view shows the running stream with a non-zero rate. The table is redrawn
    // each second, so a row is read whole inside the wait (a redrawn one is read again).
    StreamRow row =
        wait.ignoring(StaleElementReferenceException.class)
            .until(
                b ->
                    b.findElements(By.cssSelector("#streams-table tbody tr")).stream()
                        .map(StreamRow::of)
                        .filter(r -> r.function().endsWith("slowNumbers"))
                        .filter(r -> r.producedPerSecond() > 0)
                        .findFirst()
                        .orElse(null));
    assertThat(row.producedPerSecond()).isPositive();
    assertThat(row.state()).isIn("RUNNING", "STALLED");
    // The chart has drawn a few seconds of rates before the picture is taken.
    await()
        .atMost(UI_WAIT)
        .until(() -> browser.findElements(By.cssSelector("#streams-chart canvas")).size() == 1);
    long seenAt = consumed.get();
    await().atMost(UI_WAIT).until(() -> consumed.get() >= seenAt + 100);
    Path shot = screenshot("streams");
    assertThat(shot).isNotEmptyFile();

    // Rule: the tasks view filters by state and function.
    browser.findElement(By.cssSelector("nav a[data-view=tasks]")).click();
    browser.findElement(By.id("task-function")).sendKeys("slowNumbers");
    new Select(browser.findElement(By.id("task-state"))).selectByValue("RUNNING");
    wait.until(b -> tasksShown(b).stream().anyMatch(t -> t.contains("slowNumbers")));
    new Select(browser.findElement(By.id("task-state"))).selectByValue("FAILED");
    wait.until(b -> tasksShown(b).isEmpty() && b.findElement(By.id("tasks-empty")).isDisplayed());
    screenshot("tasks");

    // The workers view lists the worker JVMs of both nodes.
    browser.findElement(By.cssSelector("nav a[data-view=workers]")).click();
    wait.until(b -> b.findElements(By.cssSelector("#workers-table tbody tr")).size() >= 2);
    browser.findElement(By.cssSelector("nav a[data-view=store]")).click();
    wait.until(b -> b.findElements(By.cssSelector("#store-chart canvas")).size() == 1);
    screenshot("store");

    // Rule: a worker's row links to its log, which the Logs page shows and follows live: a line
    // the worker logs through SLF4J after the page opened appears, as text (never as markup).
    ActorHandle<LogWriter> writer = Sluice.actor(LogWriter::new).remote();
    String workerId = writer.task(LogWriter::workerId).remote().get();
    browser.findElement(By.cssSelector("nav a[data-view=workers]")).click();
    By logLink = By.cssSelector("#workers-table tbody tr[data-worker-id='" + workerId + "'] a");
    wait.ignoring(StaleElementReferenceException.class)
        .until(
            b -> {
              List<WebElement> links = b.findElements(logLink);
              if (links.isEmpty()) {
                return false;
              }
              links.getFirst().click();
              return true;
            });
    wait.until(b -> b.getCurrentUrl().contains("#logs/") && b.getCurrentUrl().contains(workerId));
    // The tail holds the worker's start (it logs that it serves), and the page follows from there.
    wait.until(b -> logText(b).contains("serving on port"));
    assertThat(browser.findElement(By.id("log-status")).getText())
        .contains("worker " + workerId.substring(0, 8))
        .contains("following");
    String line = "dashboard-log-line-" + System.nanoTime() + " <b>not markup</b> & more";
    assertThat(writer.task(LogWriter::log, line).remote().get()).isTrue();
    wait.until(b -> logText(b).contains(line));
    assertThat(browser.findElements(By.cssSelector("#log-text b"))).isEmpty();
    screenshot("logs");

    // Paused, then following again: the page catches up with what was logged meanwhile.
    browser.findElement(By.id("log-follow")).click();
    wait.until(b -> b.findElement(By.id("log-status")).getText().contains("paused"));
    String later = "dashboard-log-later-" + System.nanoTime();
    assertThat(writer.task(LogWriter::log, later).remote().get()).isTrue();
    browser.findElement(By.id("log-follow")).click();
    wait.until(b -> logText(b).contains(later));
    Sluice.kill(writer);
  }

  private static String logText(WebDriver b) {
    return b.findElement(By.id("log-text")).getText();
  }

  private static List<String> tasksShown(WebDriver b) {
    return b.findElements(By.cssSelector("#tasks-table tbody tr")).stream()
        .map(WebElement::getText)
        .toList();
  }

  private void consumeSlowly() {
    try {
      while (!stopConsuming.get()) {
        Optional<ObjectRef<Integer>> next = stream.next(Duration.ofMillis(200));
        if (next.isPresent()) {
          next.get().get();
          consumed.incrementAndGet();
          Thread.sleep(80);
        } else if (stream.isFinished()) {
          return;
        }
      }
    } catch (InterruptedException | NoSuchElementException e) {
      // the test is over or the stream ended
    } catch (RuntimeException e) {
      if (!stopConsuming.get()) {
        throw e;
      }
    }
  }

  /** What a row of the streams table shows. */
  private record StreamRow(String function, double producedPerSecond, String state) {
    static StreamRow of(WebElement tr) {
      List<WebElement> cells = tr.findElements(By.tagName("td"));
      return new StreamRow(
          cells.get(1).getText(),
          number(tr.findElement(By.cssSelector("td[data-col=producedPerSecond]")).getText()),
          tr.findElement(By.cssSelector("td[data-col=state]")).getText());
    }

    private static double number(String text) {
      try {
        return Double.parseDouble(text.replace(",", ""));
      } catch (NumberFormatException e) {
        return 0;
      }
    }
  }

  private ChromeDriver startBrowser() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
        "--user-data-dir=" + browserProfile);
    // An explicit driver: Selenium Manager never looks for (or downloads) one.
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
            .usingAnyFreePort()
            .build();
    return new ChromeDriver(service, options);
  }

  private Path screenshot(String name) throws IOException {
    Path target = Path.of("target", "dashboard-" + name + ".png").toAbsolutePath();
    Path taken = browser.getScreenshotAs(OutputType.FILE).toPath();
    Files.copy(taken, target, StandardCopyOption.REPLACE_EXISTING);
    Files.deleteIfExists(taken);
    return target;
  }

  private static String printedValue(CliRun run, String prefix) {
    return run.outLines().stream()
        .filter(l -> l.startsWith(prefix))
        .map(l -> l.substring(prefix.length()).trim())
        .findFirst()
        .orElseThrow(() -> new AssertionError("no line '" + prefix + "' in\n" + run));
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
