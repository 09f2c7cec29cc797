// A caught exception printed by printStackTrace (as loggers print it): no
// "Exception in thread" line; the trace starts with the exception's class.
public class Caught {
    public static void main(String[] args) {
        System.err.println("request 42 failed");
        try {
            Object o = null;
            o.toString();
        } catch (Exception e) {
            e.printStackTrace();
        }
        System.err.println("request 43 done");
    }
}
