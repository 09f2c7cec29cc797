// Uncaught exception with a cause chain: "Exception in thread", "Caused by:", "... N more".
public class Uncaught {
    static void parse(String s) {
        try {
            Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("config value is not a number: " + s, e);
        }
    }
    static void load() {
        try {
            parse("12x");
        } catch (IllegalStateException e) {
            RuntimeException r = new RuntimeException("loading the configuration failed", e);
            r.addSuppressed(new java.io.IOException("closing config.properties failed"));
            throw r;
        }
    }
    public static void main(String[] args) {
        System.out.println("starting");
        load();
    }
}
